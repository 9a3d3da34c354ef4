// What modmfa_http.c (the parser bindings) exports for _mfa's globals table in modmfa.c:
//   { MP_ROM_QSTR(MP_QSTR_parse_request), MP_ROM_PTR(&mfa_parse_request_obj) },
//   { MP_ROM_QSTR(MP_QSTR_ParseError), MP_ROM_PTR(&mfa_type_ParseError) },
//   { MP_ROM_QSTR(MP_QSTR_unquote), MP_ROM_PTR(&mfa_unquote_obj) },
//   { MP_ROM_QSTR(MP_QSTR_parse_qsl), MP_ROM_PTR(&mfa_parse_qsl_obj) },
//   { MP_ROM_QSTR(MP_QSTR_ChunkedDecoder), MP_ROM_PTR(&mfa_type_ChunkedDecoder) },
// Sources: modmfa_http.c and mfa_http.c.
#ifndef MFA_MODMFA_HTTP_H
#define MFA_MODMFA_HTTP_H

#include "py/obj.h"
#include "mfa_http.h"

typedef struct _mfa_span16_t {
    uint16_t off;
    uint16_t len;
} mfa_span16_t;

// A parsed request head: what parse_request returns, and the first member of every
// _mfa.Server request (modmfa_server.c), whose attribute function hands everything but its
// own attributes to mfa_head_attr. Offsets are 16-bit: the whole head fits in MAX_HEAD bytes.
typedef struct _mfa_head_obj_t {
    mp_obj_base_t base;
    mp_obj_t buf;              // bytes holding `data` (kept alive by this ref), or MP_OBJ_NULL
                               // when `data` lies inside the object itself (server requests)
    const char *data;          // the head: request line, headers, blank line
    mfa_span16_t *spans;       // name, value of each header: NULL until first needed
    mp_obj_t headers;          // the headers list, made on first use
    uint64_t content_length;
    uint16_t header_len;
    uint16_t method_len;       // the method ends 1 byte before the path (see mfa_head_method)
    uint8_t minor_version;
    uint8_t flags;             // MFA_HTTP_F_*
    uint8_t num_headers;       // valid once spans is set
    mfa_span16_t path;
    mfa_span16_t query;
} mfa_head_obj_t;

// The method: the request line is `method SP target`, and the path starts the target. (Not at
// offset 0: empty lines before the request line are part of the head, see mfa_http.h rule 4.)
static inline const char *mfa_head_method(const mfa_head_obj_t *h) {
    return h->data + h->path.off - 1 - h->method_len;
}

// Fill a head object (its base set) from the parser's result for `data` (header_len bytes).
void mfa_head_init(mfa_head_obj_t *h, mp_obj_t buf, const char *data, size_t header_len,
    const mfa_http_request_t *req);
// The head's attributes (method, path, query, version, header_len, content_length, chunked,
// keep_alive, expect_continue, headers, header()); anything else is left to the caller.
void mfa_head_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest);
// "<KIND METHOD PATH?QUERY HTTP/1.x>"
void mfa_head_print_line(const mp_print_t *print, const char *kind, const mfa_head_obj_t *h);

extern const mp_obj_fun_builtin_var_t mfa_parse_request_obj;   // parse_request(buf, last_len=0)
extern const mp_obj_type_t mfa_type_ParseError;                  // ValueError subclass
extern const mp_obj_fun_builtin_fixed_t mfa_unquote_obj;         // unquote(str_or_bytes) -> str
extern const mp_obj_fun_builtin_fixed_t mfa_parse_qsl_obj;       // parse_qsl(qs) -> [(k, v)]
extern const mp_obj_type_t mfa_type_ChunkedDecoder;              // ChunkedDecoder()

#endif // MFA_MODMFA_HTTP_H
