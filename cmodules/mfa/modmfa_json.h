// What modmfa_json.c (JSON bodies) exports for _mfa's globals table in modmfa.c:
//   { MP_ROM_QSTR(MP_QSTR_json_loads), MP_ROM_PTR(&mfa_json_loads_obj) },
//   { MP_ROM_QSTR(MP_QSTR_json_dumps), MP_ROM_PTR(&mfa_json_dumps_obj) },
// Sources: modmfa_json.c and mfa_json_pull.c.
#ifndef MFA_MODMFA_JSON_H
#define MFA_MODMFA_JSON_H

#include "py/obj.h"

// json_loads(buf) -> value; json_dumps(obj[, checked]) -> str (or None: see modmfa_json.c)
MP_DECLARE_CONST_FUN_OBJ_1(mfa_json_loads_obj);
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_json_dumps_obj);

#endif // MFA_MODMFA_JSON_H
