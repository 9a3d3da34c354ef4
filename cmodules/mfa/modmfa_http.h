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

extern const mp_obj_fun_builtin_var_t mfa_parse_request_obj;   // parse_request(buf, last_len=0)
extern const mp_obj_type_t mfa_type_ParseError;                  // ValueError subclass
extern const mp_obj_fun_builtin_fixed_t mfa_unquote_obj;         // unquote(str_or_bytes) -> str
extern const mp_obj_fun_builtin_fixed_t mfa_parse_qsl_obj;       // parse_qsl(qs) -> [(k, v)]
extern const mp_obj_type_t mfa_type_ChunkedDecoder;              // ChunkedDecoder()

#endif // MFA_MODMFA_HTTP_H
