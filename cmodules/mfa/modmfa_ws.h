// What modmfa_ws.c (the WebSocket frame bindings) exports for _mfa's globals table in modmfa.c:
//   { MP_ROM_QSTR(MP_QSTR_WsReader), MP_ROM_PTR(&mfa_type_WsReader) },
//   { MP_ROM_QSTR(MP_QSTR_WsError), MP_ROM_PTR(&mfa_type_WsError) },
//   { MP_ROM_QSTR(MP_QSTR_ws_frame), MP_ROM_PTR(&mfa_ws_frame_obj) },
//   { MP_ROM_QSTR(MP_QSTR_ws_accept), MP_ROM_PTR(&mfa_ws_accept_obj) },
//   { MP_ROM_QSTR(MP_QSTR_WsAwait), MP_ROM_PTR(&mfa_type_WsAwait) },
//   { MP_ROM_QSTR(MP_QSTR_ws_done), MP_ROM_PTR(&mfa_ws_done_obj) },
// Sources: modmfa_ws.c and mfa_ws.c.
#ifndef MFA_MODMFA_WS_H
#define MFA_MODMFA_WS_H

#include "py/obj.h"

// WsReader(max_message=4096, client=False); WsError: a ValueError, args (code, reason)
extern const mp_obj_type_t mfa_type_WsReader;
extern const mp_obj_type_t mfa_type_WsError;
// ws_frame(opcode, payload, fin=True, mask=None) -> bytes; ws_accept(key) -> str or None
extern const mp_obj_fun_builtin_var_t mfa_ws_frame_obj;
extern const mp_obj_fun_builtin_fixed_t mfa_ws_accept_obj;
// WsAwait(step): an allocation-light awaitable for websocket.py (see modmfa_ws.c); ws_done:
// one that is already done (None)
extern const mp_obj_type_t mfa_type_WsAwait;
typedef struct _mfa_wsawait_obj_t mfa_wsawait_obj_t;
extern const mfa_wsawait_obj_t mfa_ws_done_obj;

#endif // MFA_MODMFA_WS_H
