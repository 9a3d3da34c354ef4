// _mfa bindings for the HTTP parser (mfa_http.c): parse_request, ParseError, unquote,
// parse_qsl, ChunkedDecoder. The contract is docs/internals.md ("Parser"); parser.py is the
// pure-Python twin with the same behaviour. modmfa.c puts the objects below in _mfa's globals.
//
// parse_request(buf, last_len=0):
//   buf: bytes, bytearray or memoryview. Returns None while the head is incomplete, raises
//   ParseError(status, reason) when it is invalid, else a head object.
// The head object is built for heap economy on a 264 KiB MCU: one small allocation holding
// 16-bit offsets of the request line's spans, plus a reference to `buf` when it is bytes
// (immutable, so the spans stay valid) or to one copy of the head otherwise; the header spans
// are found when a header is first read. Strings are made only when an attribute is read
// (method usually an existing qstr: no allocation; version a ROM str), and are not cached
// (but the headers list is): read each attribute once (microfastapi.request does).

#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"

#include "mfa_http.h"
#include "modmfa_http.h"

// Offsets are 16-bit: the whole head fits in MAX_HEAD bytes.
#if MFA_HTTP_MAX_HEAD > 65535 || MFA_HTTP_MAX_HEADERS > 255
#error "mfa_head_obj_t stores 16-bit offsets and an 8-bit header count"
#endif

// ---- ParseError --------------------------------------------------------------------------------

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_ParseError,
    MP_QSTR_ParseError,
    MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, mp_obj_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mp_type_ValueError
    );

static NORETURN void mfa_raise_parse_error(mfa_http_err_t err) {
    const char *reason = mfa_http_err_reason(err);
    mp_obj_t args[2] = {
        MP_OBJ_NEW_SMALL_INT(mfa_http_err_status(err)),
        mp_obj_new_str(reason, strlen(reason)),
    };
    nlr_raise(mp_obj_new_exception_args(&mfa_type_ParseError, 2, args));
}

// ---- the request head object -------------------------------------------------------------------
//
// mfa_head_obj_t (modmfa_http.h) is what parse_request returns, and the first member of every
// _mfa.Server request (modmfa_server.c), so the attributes below serve both.

// The common methods as qstrs: `method` returns these without allocating.
static const qstr mfa_common_methods[] = {
    MP_QSTR_GET, MP_QSTR_POST, MP_QSTR_PUT, MP_QSTR_DELETE, MP_QSTR_HEAD, MP_QSTR_OPTIONS,
    MP_QSTR_PATCH,
};

static mp_obj_t mfa_method_str(const char *s, size_t n) {
    for (size_t i = 0; i < MP_ARRAY_SIZE(mfa_common_methods); ++i) {
        size_t ql;
        const byte *q = qstr_data(mfa_common_methods[i], &ql);
        if (ql == n && memcmp(q, s, n) == 0) {
            return MP_OBJ_NEW_QSTR(mfa_common_methods[i]);
        }
    }
    return mp_obj_new_str_copy(&mp_type_str, (const byte *)s, n);
}

// ROM strs, not MP_QSTR_1_dot_1 (see the note on the host default in modmfa_server.c).
static const MP_DEFINE_STR_OBJ(mfa_version_10_obj, "1.0");
static const MP_DEFINE_STR_OBJ(mfa_version_11_obj, "1.1");

static mp_obj_t mfa_span_str(const char *data, mfa_span16_t sp) {
    // Spans were validated: the target is ASCII and values are UTF-8, no check needed.
    if (sp.len == 0) {
        return MP_OBJ_NEW_QSTR(MP_QSTR_);
    }
    return mp_obj_new_str_copy(&mp_type_str, (const byte *)data + sp.off, sp.len);
}

// Lower-cased header name; common names come back as existing qstrs (no allocation).
static mp_obj_t mfa_name_str(const char *data, mfa_span16_t sp) {
    char tmp[32];
    const char *s = data + sp.off;
    if (sp.len <= sizeof(tmp)) {
        for (size_t i = 0; i < sp.len; ++i) {
            char c = s[i];
            tmp[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
        }
        qstr q = qstr_find_strn(tmp, sp.len);
        if (q != MP_QSTRnull) {
            return MP_OBJ_NEW_QSTR(q);
        }
        return mp_obj_new_str_copy(&mp_type_str, (const byte *)tmp, sp.len);
    }
    vstr_t v;
    vstr_init_len(&v, sp.len);
    for (size_t i = 0; i < sp.len; ++i) {
        char c = s[i];
        v.buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
    }
    return mp_obj_new_str_from_vstr(&v);
}

static mfa_span16_t mfa_span16(const char *base, const char *p, size_t len) {
    mfa_span16_t s = { (uint16_t)(p - base), (uint16_t)len };
    return s;
}

void mfa_head_init(mfa_head_obj_t *h, mp_obj_t buf, const char *data, size_t header_len,
    const mfa_http_request_t *req) {
    h->buf = buf;
    h->data = data;
    h->spans = NULL;
    h->headers = MP_OBJ_NULL;
    h->content_length = req->content_length;
    h->header_len = (uint16_t)header_len;
    h->minor_version = (uint8_t)req->minor_version;
    h->flags = (uint8_t)req->flags;
    h->num_headers = 0;
    h->method_len = (uint16_t)req->method_len;
    h->path = mfa_span16(data, req->path, req->path_len);
    h->query = mfa_span16(data, req->query, req->query_len);
}

// The header spans, parsed again from the head (valid: it was parsed before) on first use and
// kept: a request whose headers are never read pays nothing for them.
static const mfa_span16_t *mfa_head_spans(mfa_head_obj_t *h) {
    if (h->spans == NULL) {
        mfa_http_request_t req;
        mfa_http_header_t hs[MFA_HTTP_MAX_HEADERS];
        size_t nh = MFA_HTTP_MAX_HEADERS;
        if (mfa_http_parse_request(h->data, h->header_len, 0, &req, hs, &nh) < 0) {
            nh = 0;
        }
        mfa_span16_t *sp = m_new(mfa_span16_t, 2 * nh + 1);
        for (size_t i = 0; i < nh; ++i) {
            sp[2 * i] = mfa_span16(h->data, hs[i].name, hs[i].name_len);
            sp[2 * i + 1] = mfa_span16(h->data, hs[i].value, hs[i].value_len);
        }
        h->num_headers = (uint8_t)nh;
        h->spans = sp;
    }
    return h->spans;
}

static mp_obj_t mfa_head_header(size_t n_args, const mp_obj_t *args) {
    mfa_head_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    size_t name_len;
    const char *name = mp_obj_str_get_data(args[1], &name_len);
    const mfa_span16_t *sp = mfa_head_spans(self);
    for (size_t i = 0; i < self->num_headers; ++i) {
        mfa_span16_t n = sp[2 * i];
        if (n.len == name_len && mfa_http_ieq(self->data + n.off, name, name_len)) {
            return mfa_span_str(self->data, sp[2 * i + 1]);
        }
    }
    return n_args > 2 ? args[2] : mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_head_header_obj, 2, 3, mfa_head_header);

// [(name, value)], lower-cased names in wire order; made once, then the same list.
static mp_obj_t mfa_head_headers(mfa_head_obj_t *self) {
    if (self->headers == MP_OBJ_NULL) {
        const mfa_span16_t *sp = mfa_head_spans(self);
        mp_obj_t list = mp_obj_new_list(self->num_headers, NULL);
        mp_obj_list_t *l = MP_OBJ_TO_PTR(list);
        for (size_t i = 0; i < self->num_headers; ++i) {
            mp_obj_t kv[2] = {
                mfa_name_str(self->data, sp[2 * i]),
                mfa_span_str(self->data, sp[2 * i + 1]),
            };
            l->items[i] = mp_obj_new_tuple(2, kv);
        }
        self->headers = list;
    }
    return self->headers;
}

void mfa_head_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    mfa_head_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return; // read-only
    }
    switch (attr) {
        case MP_QSTR_method:
            dest[0] = mfa_method_str(mfa_head_method(self), self->method_len);
            break;
        case MP_QSTR_path:
            dest[0] = mfa_span_str(self->data, self->path);
            break;
        case MP_QSTR_query:
            dest[0] = mfa_span_str(self->data, self->query);
            break;
        case MP_QSTR_version:
            dest[0] = self->minor_version ? MP_OBJ_FROM_PTR(&mfa_version_11_obj)
                : MP_OBJ_FROM_PTR(&mfa_version_10_obj);
            break;
        case MP_QSTR_header_len:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->header_len);
            break;
        case MP_QSTR_content_length:
            dest[0] = (self->flags & MFA_HTTP_F_CONTENT_LENGTH)
                ? mp_obj_new_int_from_ull(self->content_length) : mp_const_none;
            break;
        case MP_QSTR_chunked:
            dest[0] = mp_obj_new_bool(self->flags & MFA_HTTP_F_CHUNKED);
            break;
        case MP_QSTR_keep_alive:
            dest[0] = mp_obj_new_bool(self->flags & MFA_HTTP_F_KEEP_ALIVE);
            break;
        case MP_QSTR_expect_continue:
            dest[0] = mp_obj_new_bool(self->flags & MFA_HTTP_F_EXPECT_CONTINUE);
            break;
        case MP_QSTR_headers:
            dest[0] = mfa_head_headers(self);
            break;
        case MP_QSTR_header:
            dest[0] = MP_OBJ_FROM_PTR(&mfa_head_header_obj);
            dest[1] = self_in;
            break;
        default:
            dest[1] = MP_OBJ_SENTINEL; // not ours: let the lookup continue
            break;
    }
}

void mfa_head_print_line(const mp_print_t *print, const char *kind, const mfa_head_obj_t *h) {
    mp_printf(print, "<%s %.*s %.*s%s%.*s HTTP/1.%d>", kind, h->method_len, mfa_head_method(h),
        h->path.len, h->data + h->path.off, h->query.len ? "?" : "", h->query.len,
        h->data + h->query.off, h->minor_version);
}

static void mfa_head_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    mfa_head_print_line(print, "RequestHead", MP_OBJ_TO_PTR(self_in));
}

static MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_head,
    MP_QSTR_RequestHead,
    MP_TYPE_FLAG_NONE,
    print, mfa_head_print,
    attr, mfa_head_attr
    );

static mp_obj_t mfa_parse_request(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_buf, ARG_last_len };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_buf, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_last_len, MP_ARG_INT, {.u_int = 0} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_buffer_info_t bi;
    mp_get_buffer_raise(args[ARG_buf].u_obj, &bi, MP_BUFFER_READ);
    mp_int_t last_len = args[ARG_last_len].u_int;
    const char *buf = bi.buf;

    mfa_http_request_t req;
    mfa_http_header_t headers[MFA_HTTP_MAX_HEADERS];
    size_t nh = MFA_HTTP_MAX_HEADERS;
    int r = mfa_http_parse_request(buf, bi.len, last_len > 0 ? (size_t)last_len : 0, &req,
        headers, &nh);
    if (r == MFA_HTTP_INCOMPLETE) {
        return mp_const_none;
    }
    if (r < 0) {
        mfa_raise_parse_error(req.error);
    }

    // bytes are immutable: point into them. Anything else (a bytearray the server will reuse,
    // a memoryview) gets one copy of the head.
    mp_obj_t keep = args[ARG_buf].u_obj;
    if (!mp_obj_is_type(keep, &mp_type_bytes)) {
        keep = mp_obj_new_bytes((const byte *)buf, (size_t)r);
        mp_get_buffer_raise(keep, &bi, MP_BUFFER_READ);
        // Spans are offsets from the start, so they hold for the copy too.
        const char *copy = bi.buf;
        req.path = copy + (req.path - buf);
        req.query = copy + (req.query - buf);
        buf = copy;
    }
    mfa_head_obj_t *o = mp_obj_malloc(mfa_head_obj_t, &mfa_type_head);
    mfa_head_init(o, keep, buf, (size_t)r, &req);
    return MP_OBJ_FROM_PTR(o);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mfa_parse_request_obj, 1, mfa_parse_request);

// ---- unquote / parse_qsl -----------------------------------------------------------------------

// Percent-decode (with plus: '+' is a space) and turn into a str, U+FFFD for invalid UTF-8.
static mp_obj_t mfa_decode_str(const char *s, size_t n, bool plus) {
    if (n == 0) {
        return MP_OBJ_NEW_QSTR(MP_QSTR_);
    }
    vstr_t v;
    vstr_init_len(&v, n);
    size_t m = mfa_http_unquote(s, n, v.buf, plus);
    size_t need = mfa_http_utf8_sanitize(v.buf, m, NULL);
    if (need != m) {
        vstr_t w;
        vstr_init_len(&w, need);
        mfa_http_utf8_sanitize(v.buf, m, w.buf);
        vstr_clear(&v);
        return mp_obj_new_str_copy(&mp_type_str, (const byte *)w.buf, need);
    }
    v.len = m;
    return mp_obj_new_str_copy(&mp_type_str, (const byte *)v.buf, m);
}

static mp_obj_t mfa_unquote(mp_obj_t s_in) {
    mp_buffer_info_t bi;
    mp_get_buffer_raise(s_in, &bi, MP_BUFFER_READ);
    // Nothing to decode in a str without '%': hand it back as it is (no allocation).
    if (mp_obj_is_str(s_in) && memchr(bi.buf, '%', bi.len) == NULL) {
        return s_in;
    }
    return mfa_decode_str(bi.buf, bi.len, false);
}
MP_DEFINE_CONST_FUN_OBJ_1(mfa_unquote_obj, mfa_unquote);

static mp_obj_t mfa_parse_qsl(mp_obj_t qs_in) {
    mp_buffer_info_t bi;
    mp_get_buffer_raise(qs_in, &bi, MP_BUFFER_READ);
    mp_obj_t list = mp_obj_new_list(0, NULL);
    size_t pos = 0;
    const char *k, *v;
    size_t kl, vl;
    while (mfa_http_qs_next(bi.buf, bi.len, &pos, &k, &kl, &v, &vl)) {
        mp_obj_t kv[2] = { mfa_decode_str(k, kl, true), mfa_decode_str(v, vl, true) };
        mp_obj_list_append(list, mp_obj_new_tuple(2, kv));
    }
    return list;
}
MP_DEFINE_CONST_FUN_OBJ_1(mfa_parse_qsl_obj, mfa_parse_qsl);

// ---- ChunkedDecoder ----------------------------------------------------------------------------

// d = ChunkedDecoder(); payload, consumed = d.feed(data); d.done
// feed decodes as much of data as it can; until the body ends consumed == len(data); once the
// final CRLF is read d.done is True and consumed stops there (the rest is the next request).
// Errors raise ParseError and are sticky.
typedef struct _mfa_chunked_obj_t {
    mp_obj_base_t base;
    mfa_chunked_t d;
} mfa_chunked_obj_t;

static mp_obj_t mfa_chunked_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    (void)args;
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    mfa_chunked_obj_t *o = mp_obj_malloc(mfa_chunked_obj_t, type);
    mfa_chunked_init(&o->d);
    return MP_OBJ_FROM_PTR(o);
}

static mp_obj_t mfa_chunked_feed(mp_obj_t self_in, mp_obj_t data_in) {
    mfa_chunked_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(data_in, &bi, MP_BUFFER_READ);
    if (self->d.error != MFA_HTTP_E_OK) {
        mfa_raise_parse_error((mfa_http_err_t)self->d.error);
    }
    vstr_t v;
    vstr_init_len(&v, bi.len);
    size_t out;
    ptrdiff_t r = mfa_chunked_decode(&self->d, bi.buf, bi.len, v.buf, &out);
    if (r == MFA_HTTP_ERROR) {
        vstr_clear(&v);
        mfa_raise_parse_error((mfa_http_err_t)self->d.error);
    }
    mp_obj_t body;
    if (out == 0) {
        vstr_clear(&v);
        body = mp_const_empty_bytes;
    } else {
        v.len = out;
        body = mp_obj_new_bytes_from_vstr(&v);
    }
    mp_obj_t tup[2] = {
        body, MP_OBJ_NEW_SMALL_INT(r == MFA_HTTP_INCOMPLETE ? (mp_int_t)bi.len : (mp_int_t)r),
    };
    return mp_obj_new_tuple(2, tup);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_chunked_feed_obj, mfa_chunked_feed);

static void mfa_chunked_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    mfa_chunked_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR_done) {
        dest[0] = mp_obj_new_bool(mfa_chunked_done(&self->d));
    } else if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR_feed) {
        dest[0] = MP_OBJ_FROM_PTR(&mfa_chunked_feed_obj);
        dest[1] = self_in;
    }
}

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_ChunkedDecoder,
    MP_QSTR_ChunkedDecoder,
    MP_TYPE_FLAG_NONE,
    make_new, mfa_chunked_make_new,
    attr, mfa_chunked_attr
    );
