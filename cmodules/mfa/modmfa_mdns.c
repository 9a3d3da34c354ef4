// _mfa.mdns_rename(name): the hostname lwIP's mDNS responder answers for, changed on every
// network interface it runs on; returns how many interfaces it renamed.
//
// Why: MicroPython's rp2 port starts the responder when an interface first comes up
// (CYW43_CB_TCPIP_INIT_EXTRA in ports/rp2/cyw43_configport.h calls mdns_resp_add_netif with
// network.hostname() at that moment), and lwIP keeps a copy of the name. A later
// network.hostname(name) changes what DHCP sends, not what mDNS answers; WiFi stays joined across
// a soft reset, so `wifi.connect(hostname=...)` in main.py after Ctrl-D would otherwise leave the
// board answering to its old name until the next power-up. wifi.connect calls this when the
// interface is already up and the name differs.
//
// mdns_resp_rename_netif probes for the new name again (RFC 6762: three probes 250 ms apart) and
// then announces it: the board answers to the new name about a second later, and to the old one
// no more.

#include "modmfa_mdns.h"

#if MFA_MDNS_ENABLED

#include <string.h>

#include "py/runtime.h"
#include "py/mphal.h"

#include "lwip/netif.h"
#include "lwip/apps/mdns.h"

#ifndef MICROPY_PY_LWIP_ENTER
#define MICROPY_PY_LWIP_ENTER
#define MICROPY_PY_LWIP_EXIT
#endif

static mp_obj_t mfa_mdns_rename(mp_obj_t name_in) {
    size_t len;
    const char *name = mp_obj_str_get_data(name_in, &len);
    // One DNS label: lwIP copies at most MDNS_LABEL_MAXLEN bytes, and a dot would make
    // "<name>.local" a name of more labels than the responder answers for.
    if (len == 0 || len > MDNS_LABEL_MAXLEN || memchr(name, '.', len) != NULL
        || strlen(name) != len) {
        mp_raise_ValueError(MP_ERROR_TEXT("mDNS hostname must be 1-63 bytes, no dots"));
    }
    mp_int_t renamed = 0;
    MICROPY_PY_LWIP_ENTER
    struct netif *netif;
    NETIF_FOREACH(netif) {
        if (mdns_resp_netif_active(netif) && mdns_resp_rename_netif(netif, name) == ERR_OK) {
            renamed++;
        }
    }
    MICROPY_PY_LWIP_EXIT
    return MP_OBJ_NEW_SMALL_INT(renamed);
}
MP_DEFINE_CONST_FUN_OBJ_1(mfa_mdns_rename_obj, mfa_mdns_rename);

#endif // MFA_MDNS_ENABLED
