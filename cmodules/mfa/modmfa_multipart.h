// What modmfa_multipart.c (the multipart/form-data bindings) exports for _mfa's globals table in
// modmfa.c:
//   { MP_ROM_QSTR(MP_QSTR_MultipartReader), MP_ROM_PTR(&mfa_type_MultipartReader) },
//   { MP_ROM_QSTR(MP_QSTR_MultipartError), MP_ROM_PTR(&mfa_type_MultipartError) },
//   and the event kinds MP_PART, MP_DATA, MP_PART_END, MP_END (small ints).
// Sources: modmfa_multipart.c and mfa_multipart.c.
#ifndef MFA_MODMFA_MULTIPART_H
#define MFA_MODMFA_MULTIPART_H

#include "py/obj.h"

// MultipartReader(boundary, max_parts=64, max_header=1024); MultipartError: a ValueError,
// args (status, message)
extern const mp_obj_type_t mfa_type_MultipartReader;
extern const mp_obj_type_t mfa_type_MultipartError;

#endif // MFA_MODMFA_MULTIPART_H
