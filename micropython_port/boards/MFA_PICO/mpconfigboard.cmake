# microfastapi on a plain RP2040 Pico: lwIP with a SLIP link on a UART instead of WiFi.
# This is the board the tests and benchmarks run in the rp2040py emulator; on real hardware it
# serves over a USB-serial adapter wired to the UART.
set(PICO_BOARD "pico")
set(PICO_PLATFORM "rp2040")

set(MICROPY_PY_LWIP ON)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)

# SLIP link on UART0 (network.SLIP): our driver plus lwIP's slipif, which MicroPython's lwIP
# source list leaves out; and the listen-queue hook of mfa_lwipopts.h.
set(MICROPY_SOURCE_BOARD
    ${MICROPY_BOARD_DIR}/mfa_slip.c
    ${MICROPY_BOARD_DIR}/mfa_syn_queue.c
    ${MICROPY_DIR}/lib/lwip/src/netif/slipif.c
)
