// _mfa.mdns_rename: give lwIP's mDNS responder a new hostname on an interface that is already up
// (modmfa_mdns.c says why the firmware needs it). Compiled where lwIP has the responder
// (LWIP_MDNS_RESPONDER, on in MicroPython 1.25's extmod/lwip-include/lwipopts_common.h):
// MFA_PICO_W and MFA_PICO; not on unix.
#ifndef MFA_MODMFA_MDNS_H
#define MFA_MODMFA_MDNS_H

#include "py/obj.h"

#if MICROPY_PY_LWIP
#include "lwip/opt.h"
#endif

#if MICROPY_PY_LWIP && LWIP_MDNS_RESPONDER
#define MFA_MDNS_ENABLED (1)
#else
#define MFA_MDNS_ENABLED (0)
#endif

#if MFA_MDNS_ENABLED
MP_DECLARE_CONST_FUN_OBJ_1(mfa_mdns_rename_obj);
#endif

#endif // MFA_MODMFA_MDNS_H
