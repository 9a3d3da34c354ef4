// microfastapi on a plain RP2040 Pico: lwIP over a SLIP link instead of WiFi.
#define MICROPY_HW_BOARD_NAME                   "microfastapi Pico (RP2040, SLIP)"
// 1 MB each: the image (667 KB with _mfa in December 2026; build.sh refuses one that reaches
// into the filesystem) and the filesystem.
#define MICROPY_HW_FLASH_STORAGE_BYTES          (1024 * 1024)

#define MICROPY_PY_NETWORK                      (1)
#define MICROPY_PY_NETWORK_HOSTNAME_DEFAULT     "mfa-pico"

// SLIP link (mfa_slip.c): network.SLIP on UART0, GP0 TX / GP1 RX. The REPL stays on USB CDC.
#define MFA_SLIP_UART_ID                        (0)
#define MICROPY_BOARD_PENDSV_ENTRIES            PENDSV_DISPATCH_MFA_SLIP,
extern const struct _mp_obj_type_t mfa_slip_type;
#define MICROPY_BOARD_NETWORK_INTERFACES        { MP_ROM_QSTR(MP_QSTR_SLIP), MP_ROM_PTR(&mfa_slip_type) },
// Soft reset deinits the UARTs: take the SLIP netif down first.
void mfa_slip_deinit(void);
#define MICROPY_BOARD_START_SOFT_RESET()        mfa_slip_deinit()

// lwIP tuning (connection count, timers): see the comments there.
#include "mfa_lwipopts.h"
