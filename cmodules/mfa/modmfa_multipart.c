// _mfa bindings for the multipart/form-data scanner (mfa_multipart.c): MultipartReader,
// MultipartError. The contract is docs/internals.md ("Multipart bodies"); multipart.py is the
// pure-Python twin with the same behaviour (and multipart_boundary, which both share).
//
// MultipartReader(boundary, max_parts=64, max_header=1024)
//   .feed(data) -> [event, ...]:
//     (1, name, filename or None, content_type or None, [(name, value), ...]) a part begins,
//     (2, data) content (a read-only memoryview into `data`, or bytes for held-back bytes),
//     (3,) the part ended, (4,) the final boundary.
//   .finish() -> None, or raises (400, "multipart: missing final boundary").
//   An error raises MultipartError(status, message) (events earlier in the same call are
//   dropped); every later feed or finish raises it again.
// The header buffer (max_header bytes) is allocated with the object, in one block.

#include <string.h>

#include "py/runtime.h"
#include "py/objarray.h"
#include "py/objstr.h"

#include "mfa_multipart.h"
#include "modmfa_multipart.h"

// ---- MultipartError ----------------------------------------------------------------------------

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_MultipartError,
    MP_QSTR_MultipartError,
    MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, mp_obj_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mp_type_ValueError
    );

static NORETURN void mfa_raise_mp_error(const mfa_mp_t *p, mfa_mp_err_t err) {
    char msg[80];
    size_t n = mfa_mp_error_text(p, err, msg, sizeof(msg));
    mp_obj_t args[2] = {
        MP_OBJ_NEW_SMALL_INT(mfa_mp_err_status(err)),
        mp_obj_new_str(msg, n),
    };
    nlr_raise(mp_obj_new_exception_args(&mfa_type_MultipartError, 2, args));
}

// ---- MultipartReader ---------------------------------------------------------------------------

typedef struct _mfa_mpreader_obj_t {
    mp_obj_base_t base;
    mfa_mp_t p;
    uint8_t hbuf[];
} mfa_mpreader_obj_t;

static mp_obj_t mfa_mpreader_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_boundary, ARG_max_parts, ARG_max_header };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_boundary, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_max_parts, MP_ARG_INT, {.u_int = 64} },
        { MP_QSTR_max_header, MP_ARG_INT, {.u_int = 1024} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args),
        allowed_args, args);
    mp_int_t max_parts = args[ARG_max_parts].u_int;
    mp_int_t max_header = args[ARG_max_header].u_int;
    if (max_parts < 0 || max_header < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("max_parts and max_header must be >= 0"));
    }
    mp_buffer_info_t bi;      // str or bytes
    mp_get_buffer_raise(args[ARG_boundary].u_obj, &bi, MP_BUFFER_READ);
    mfa_mpreader_obj_t *o = mp_obj_malloc_var(mfa_mpreader_obj_t, hbuf, uint8_t,
        (size_t)max_header, type);
    mfa_mp_err_t err = mfa_mp_init(&o->p, bi.buf, bi.len, o->hbuf, (size_t)max_header,
        (size_t)max_parts);
    if (err != MFA_MP_E_OK) {
        mfa_raise_mp_error(&o->p, err);
    }
    return MP_OBJ_FROM_PTR(o);
}

static mp_obj_t mfa_mp_str(const uint8_t *s, size_t n) {
    // Validated UTF-8 (mfa_multipart.h, rule 3); short ones may be existing qstrs.
    qstr q = qstr_find_strn((const char *)s, n);
    return q != MP_QSTRnull ? MP_OBJ_NEW_QSTR(q) : mp_obj_new_str_copy(&mp_type_str, s, n);
}

static mp_obj_t mfa_mp_part(mfa_mpreader_obj_t *self, mfa_mp_event_t *ev) {
    mp_obj_t headers = mp_obj_new_list(0, NULL);
    size_t pos = 0;
    mfa_mp_header_t h;
    while (mfa_mp_header_next(&self->p, &pos, &h)) {
        mp_obj_t t[2] = { mfa_mp_str(h.name, h.name_len), mfa_mp_str(h.value, h.value_len) };
        mp_obj_list_append(headers, mp_obj_new_tuple(2, t));
    }
    mfa_mp_part_unescape(&self->p, ev);     // after the headers: it rewrites one in place
    mp_obj_t t[5] = {
        MP_OBJ_NEW_SMALL_INT(MFA_MP_EV_PART),
        mfa_mp_str(ev->name, ev->name_len),
        ev->filename ? mfa_mp_str(ev->filename, ev->filename_len) : mp_const_none,
        ev->content_type ? mfa_mp_str(ev->content_type, ev->content_type_len) : mp_const_none,
        headers,
    };
    return mp_obj_new_tuple(5, t);
}

// Content inside the caller's buffer: a read-only memoryview of it (based at the buffer's
// start, as memoryview slices are, so the GC sees the buffer); held-back bytes: bytes.
static mp_obj_t mfa_mp_data(const mp_buffer_info_t *bi, const mfa_mp_event_t *ev) {
    const uint8_t *base = bi->buf;
    if (ev->data >= base && ev->data + ev->len <= base + bi->len) {
        mp_obj_array_t *mv = m_new_obj(mp_obj_array_t);
        mp_obj_memoryview_init(mv, 'B', (size_t)(ev->data - base), ev->len, bi->buf);
        return MP_OBJ_FROM_PTR(mv);
    }
    return mp_obj_new_bytes(ev->data, ev->len);
}

static mp_obj_t mfa_mpreader_feed(mp_obj_t self_in, mp_obj_t data_in) {
    mfa_mpreader_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(data_in, &bi, MP_BUFFER_READ);
    const uint8_t *p = bi.buf;
    size_t n = bi.len;
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (;;) {
        mfa_mp_event_t ev;
        size_t used = mfa_mp_feed(&self->p, p, n, &ev);
        p += used;
        n -= used;
        mp_obj_t item;
        switch (ev.type) {
            case MFA_MP_EV_NONE:
                return list;
            case MFA_MP_EV_ERROR:
                mfa_raise_mp_error(&self->p, ev.error);
            case MFA_MP_EV_PART:
                item = mfa_mp_part(self, &ev);
                break;
            case MFA_MP_EV_DATA: {
                mp_obj_t t[2] = { MP_OBJ_NEW_SMALL_INT(MFA_MP_EV_DATA), mfa_mp_data(&bi, &ev) };
                item = mp_obj_new_tuple(2, t);
                break;
            }
            default: { // PART_END, END
                mp_obj_t t[1] = { MP_OBJ_NEW_SMALL_INT(ev.type) };
                item = mp_obj_new_tuple(1, t);
                break;
            }
        }
        mp_obj_list_append(list, item);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_mpreader_feed_obj, mfa_mpreader_feed);

static mp_obj_t mfa_mpreader_finish(mp_obj_t self_in) {
    mfa_mpreader_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mfa_mp_err_t err = mfa_mp_finish(&self->p);
    if (err != MFA_MP_E_OK) {
        mfa_raise_mp_error(&self->p, err);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_mpreader_finish_obj, mfa_mpreader_finish);

static const mp_rom_map_elem_t mfa_mpreader_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_feed), MP_ROM_PTR(&mfa_mpreader_feed_obj) },
    { MP_ROM_QSTR(MP_QSTR_finish), MP_ROM_PTR(&mfa_mpreader_finish_obj) },
};
static MP_DEFINE_CONST_DICT(mfa_mpreader_locals, mfa_mpreader_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_MultipartReader,
    MP_QSTR_MultipartReader,
    MP_TYPE_FLAG_NONE,
    make_new, mfa_mpreader_make_new,
    locals_dict, &mfa_mpreader_locals
    );
