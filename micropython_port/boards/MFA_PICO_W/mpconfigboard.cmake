# microfastapi on the Raspberry Pi Pico W: MFA_PICO's build with the CYW43 WiFi chip instead of
# the SLIP link. Needs a MicroPython checkout with lib/cyw43-driver (MICROPY_DIR), which no
# package registry carries.
set(PICO_BOARD "pico_w")

set(MICROPY_PY_LWIP ON)
set(MICROPY_PY_NETWORK_CYW43 ON)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
