// _mfa bindings for JSON bodies: json_loads (values from mfa_json_pull's tokens) and json_dumps
// (MicroPython's json.dumps text, written without its per-character mp_printf). The contract is
// docs/internals.md ("JSON bodies").
//
// json_loads(buf): buf is anything with the buffer protocol (bytes, bytearray, memoryview,
//   str). The value as CPython's json.loads gives it (mfa_json_pull.h says where it differs);
//   invalid JSON raises ValueError("<what>: line L column C (char N)"), CPython's message.
// json_dumps(obj): exactly json.dumps(obj)'s text. json_dumps(obj, True): the same text, or
//   None when some value was not plain JSON (an object json.dumps writes with its repr, a
//   non-finite float, bytes, a non-str key): the caller then walks the value for the error
//   (response.check_json), and a clean answer needs no scan of the text (json_suspect).

#include <math.h>
#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"
#include "py/parsenum.h"
#include "py/stackctrl.h"

#include "mfa_json_pull.h"
#include "modmfa_json.h"

// ---- json_loads --------------------------------------------------------------------------------

// Keys remembered per document: a list of objects with the same keys makes each key's str once.
#define KEY_CACHE (16)

static NORETURN void raise_json_error(const mfa_json_pull_t *p) {
    size_t line = 1, col_start = 0;
    for (size_t i = 0; i < p->pos && i < p->n; i++) {
        if (p->s[i] == '\n') {
            line++;
            col_start = i + 1;
        }
    }
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s: line %u column %u (char %u)"),
        p->error, (unsigned)line, (unsigned)(p->pos - col_start + 1), (unsigned)p->pos);
}

static mp_obj_t make_int(const char *s, size_t n) {
    if (n <= 10) {  // at most 9 digits: a small int on every port
        size_t i = s[0] == '-';
        if (n - i <= 9) {
            mp_int_t v = 0;
            for (size_t k = i; k < n; k++) {
                v = v * 10 + (s[k] - '0');
            }
            return MP_OBJ_NEW_SMALL_INT(i ? -v : v);
        }
    }
    return mp_parse_num_integer(s, n, 10, NULL);
}

static mp_obj_t mfa_json_loads(mp_obj_t buf_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_READ);
    mfa_json_pull_t p;
    mfa_json_pull_init(&p, buf.buf, buf.len);
    // The open containers (seen by the GC on the C stack), and per depth the size of the last
    // object closed there, so the next one (a list of like objects) is made at its size.
    mp_obj_t open[MFA_JSON_MAX_DEPTH];
    uint8_t dict_hint[MFA_JSON_MAX_DEPTH];
    mp_obj_t keys[KEY_CACHE] = { MP_OBJ_NULL };
    unsigned next_key = 0;
    mp_obj_t key = MP_OBJ_NULL, result = MP_OBJ_NULL;
    vstr_t scratch;  // unescaped strings; made at the first escaped one (most bodies have none)
    scratch.buf = NULL;
    memset(dict_hint, 0, sizeof(dict_hint));
    for (;;) {
        mfa_json_token_t t = mfa_json_next(&p);
        const char *text = (const char *)p.s + p.start;
        mp_obj_t v;
        switch (t) {
            case MFA_JSON_DONE:
                if (scratch.buf) {
                    vstr_clear(&scratch);
                }
                return result;
            case MFA_JSON_ERROR:
                if (scratch.buf) {
                    vstr_clear(&scratch);
                }
                raise_json_error(&p);
            case MFA_JSON_OBJECT_END:
                dict_hint[p.depth] = (uint8_t)MIN(mp_obj_dict_get_map(open[p.depth])->used, 255);
                continue;
            case MFA_JSON_ARRAY_END:
                continue;
            case MFA_JSON_OBJECT:
                v = mp_obj_new_dict(dict_hint[p.depth - 1]);
                break;
            case MFA_JSON_ARRAY:
                v = mp_obj_new_list(0, NULL);
                break;
            case MFA_JSON_KEY:
            case MFA_JSON_STRING: {
                size_t n = p.len;
                if (p.escaped) {
                    if (!scratch.buf) {
                        vstr_init(&scratch, n);
                    }
                    vstr_reset(&scratch);
                    char *d = vstr_add_len(&scratch, n);
                    n = mfa_json_unescape(text, n, d);
                    text = d;
                }
                if (t == MFA_JSON_STRING) {
                    // a value: no qstr lookup (values are seldom names the firmware knows)
                    v = mp_obj_new_str_copy(&mp_type_str, (const byte *)text, n);
                    break;
                }
                key = MP_OBJ_NULL;
                for (unsigned k = 0; k < KEY_CACHE && keys[k] != MP_OBJ_NULL; k++) {
                    GET_STR_DATA_LEN(keys[k], kd, kn);
                    if (kn == n && memcmp(kd, text, n) == 0) {
                        key = keys[k];
                        break;
                    }
                }
                if (key == MP_OBJ_NULL) {
                    qstr q = qstr_find_strn(text, n);
                    key = q != MP_QSTRnull ? MP_OBJ_NEW_QSTR(q)
                        : mp_obj_new_str_copy(&mp_type_str, (const byte *)text, n);
                    keys[next_key++ % KEY_CACHE] = key;
                }
                continue;
            }
            case MFA_JSON_INT:
                v = make_int(text, p.len);
                break;
            case MFA_JSON_FLOAT:
                v = mp_parse_num_float(text, p.len, false, NULL);
                break;
            case MFA_JSON_TRUE:
                v = mp_const_true;
                break;
            case MFA_JSON_FALSE:
                v = mp_const_false;
                break;
            case MFA_JSON_NULL:
                v = mp_const_none;
                break;
            case MFA_JSON_NAN:
                v = mp_obj_new_float(NAN);
                break;
            default: // MFA_JSON_INF, MFA_JSON_NEG_INF
                v = mp_obj_new_float(t == MFA_JSON_INF ? INFINITY : -INFINITY);
                break;
        }
        // Put the value in its container (a new container goes in first, then is entered).
        size_t depth = p.depth - (t == MFA_JSON_OBJECT || t == MFA_JSON_ARRAY);
        if (depth == 0) {
            result = v;
        } else if (key != MP_OBJ_NULL) {
            mp_obj_dict_store(open[depth - 1], key, v);
            key = MP_OBJ_NULL;
        } else {
            mp_obj_list_append(open[depth - 1], v);
        }
        if (t == MFA_JSON_OBJECT || t == MFA_JSON_ARRAY) {
            open[depth] = v;
        }
    }
}
MP_DEFINE_CONST_FUN_OBJ_1(mfa_json_loads_obj, mfa_json_loads);

// ---- json_dumps --------------------------------------------------------------------------------

typedef struct {
    mp_print_ext_t print;  // into vstr, with json.dumps' separators (for objects it writes)
    vstr_t vstr;
    bool clean;            // every value so far was plain JSON
} encoder_t;

// A str as json.dumps writes it, followed by `tail` (tail_len bytes: ": " after a key).
static void encode_str(vstr_t *v, const byte *s, size_t n, const char *tail, size_t tail_len) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n && s[i] >= 32 && s[i] != '"' && s[i] != '\\') {
        i++;
    }
    if (i == n) {
        // Nothing to escape (most strings): one reservation, one copy (each vstr call costs
        // about a hundred cycles on the RP2040).
        char *d = vstr_add_len(v, n + 2 + tail_len);
        d[0] = '"';
        memcpy(d + 1, s, n);
        d[n + 1] = '"';
        memcpy(d + n + 2, tail, tail_len);
        return;
    }
    vstr_add_byte(v, '"');
    size_t run = 0;
    for (; i < n; i++) {
        byte c = s[i];
        if (c >= 32 && c != '"' && c != '\\') {
            continue;
        }
        vstr_add_strn(v, (const char *)s + run, i - run);
        run = i + 1;
        char esc[6] = { '\\', (char)c, 'u', '0', '0', 0 };
        size_t len = 2;
        if (c == '\n') {
            esc[1] = 'n';
        } else if (c == '\r') {
            esc[1] = 'r';
        } else if (c == '\t') {
            esc[1] = 't';
        } else if (c < 32) {  // what mp_str_print_json writes: \u%04x
            esc[1] = 'u';
            esc[2] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        vstr_add_strn(v, esc, len);
    }
    vstr_add_strn(v, (const char *)s + run, n - run);
    vstr_add_byte(v, '"');
    vstr_add_strn(v, tail, tail_len);
}

// MicroPython's own printer for what is not plain JSON (json.dumps' text, whatever it is).
static void encode_other(encoder_t *e, mp_obj_t o) {
    e->clean = false;
    mp_obj_print_helper(&e->print.base, o, PRINT_JSON);
}

static void encode_int(vstr_t *v, mp_int_t i) {
    char buf[24];
    char *d = buf + sizeof(buf);
    mp_uint_t u = i < 0 ? -(mp_uint_t)i : (mp_uint_t)i;
    do {
        *--d = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0) {
        *--d = '-';
    }
    vstr_add_strn(v, d, buf + sizeof(buf) - d);
}

static void encode(encoder_t *e, mp_obj_t o) {
    MP_STACK_CHECK();  // json.dumps recurses too: a cycle raises RuntimeError, as it does there
    vstr_t *v = &e->vstr;
    if (mp_obj_is_small_int(o)) {
        encode_int(v, MP_OBJ_SMALL_INT_VALUE(o));
    } else if (mp_obj_is_str(o)) {
        GET_STR_DATA_LEN(o, s, n);
        encode_str(v, s, n, "", 0);
    } else if (o == mp_const_true || o == mp_const_false || o == mp_const_none) {
        vstr_add_str(v, o == mp_const_none ? "null" : o == mp_const_true ? "true" : "false");
    } else if (mp_obj_is_exact_type(o, &mp_type_dict)) {
        mp_map_t *map = mp_obj_dict_get_map(o);
        vstr_add_byte(v, '{');
        bool first = true;
        for (size_t i = 0; i < map->alloc; i++) {
            if (!mp_map_slot_is_filled(map, i)) {
                continue;
            }
            if (!first) {
                vstr_add_strn(v, ", ", 2);
            }
            first = false;
            mp_obj_t k = map->table[i].key;
            if (mp_obj_is_str(k)) {
                GET_STR_DATA_LEN(k, s, n);
                encode_str(v, s, n, ": ", 2);
            } else {
                // json.dumps quotes a key that is neither str nor bytes
                bool quote = !mp_obj_is_str_or_bytes(k);
                if (quote) {
                    vstr_add_byte(v, '"');
                }
                encode_other(e, k);
                if (quote) {
                    vstr_add_byte(v, '"');
                }
                vstr_add_strn(v, ": ", 2);
            }
            encode(e, map->table[i].value);
        }
        vstr_add_byte(v, '}');
    } else if (mp_obj_is_exact_type(o, &mp_type_list) || mp_obj_is_exact_type(o, &mp_type_tuple)) {
        size_t n;
        mp_obj_t *items;
        mp_obj_get_array(o, &n, &items);
        vstr_add_byte(v, '[');
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                vstr_add_strn(v, ", ", 2);
            }
            encode(e, items[i]);
        }
        vstr_add_byte(v, ']');
    } else {
        #if MICROPY_PY_BUILTINS_FLOAT
        if (mp_obj_is_float(o)) {
            mp_float_t f = mp_obj_float_get(o);
            // A whole number below 10**6 is what float's repr writes with %g at any of its
            // precisions (6, 7 or 16 digits): its digits and ".0". The formatter costs
            // thousands of cycles a float on a chip without an FPU; -0.0 goes to it.
            if (f > -1e6 && f < 1e6 && f == (mp_float_t)(mp_int_t)f && (f != 0 || !signbit(f))) {
                encode_int(v, (mp_int_t)f);
                vstr_add_strn(v, ".0", 2);
                return;
            }
            bool clean = e->clean && !isinf(f) && !isnan(f);
            encode_other(e, o);
            e->clean = clean;
            return;
        }
        #endif
        if (mp_obj_is_int(o)) {  // a big int
            bool clean = e->clean;
            encode_other(e, o);
            e->clean = clean;
            return;
        }
        encode_other(e, o);
    }
}

static mp_obj_t mfa_json_dumps(size_t n_args, const mp_obj_t *args) {
    encoder_t e;
    e.print.item_separator = ", ";
    e.print.key_separator = ": ";
    e.clean = true;
    vstr_init_print(&e.vstr, 64, &e.print.base);
    encode(&e, args[0]);
    if (n_args > 1 && mp_obj_is_true(args[1]) && !e.clean) {
        vstr_clear(&e.vstr);
        return mp_const_none;
    }
    return mp_obj_new_str_from_utf8_vstr(&e.vstr);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_json_dumps_obj, 1, 2, mfa_json_dumps);
