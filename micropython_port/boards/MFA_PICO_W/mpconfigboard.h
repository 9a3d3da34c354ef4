// microfastapi on the Raspberry Pi Pico W (CYW43 WiFi). Kept as close to MFA_PICO as possible
// so what is tested on MFA_PICO in the emulator is what ships here.
#define MICROPY_HW_BOARD_NAME                   "microfastapi Pico W"
#define MICROPY_HW_FLASH_STORAGE_BYTES          (848 * 1024)

#define MICROPY_PY_NETWORK                      (1)
#define MICROPY_PY_NETWORK_HOSTNAME_DEFAULT     "mfa-picow"

// CYW43 driver configuration, as in MicroPython's RPI_PICO_W board.
#define CYW43_USE_SPI (1)
#define CYW43_LWIP (1)
#define CYW43_GPIO (1)
#define CYW43_SPI_PIO (1)

#define MICROPY_HW_PIN_EXT_COUNT    CYW43_WL_GPIO_COUNT

// If this returns true for a pin then its irq will not be disabled on a soft reboot.
int mp_hal_is_pin_reserved(int n);
#define MICROPY_HW_PIN_RESERVED(i) mp_hal_is_pin_reserved(i)

// The same lwIP tuning as MFA_PICO (measured there, in the emulator).
#include "../MFA_PICO/mfa_lwipopts.h"
