# microfastapi on the Raspberry Pi Pico W: MFA_PICO's build with the CYW43 WiFi chip instead of
# the SLIP link. Needs lib/cyw43-driver (v1.1.0) in the MicroPython tree: build.sh links
# CYW43_DRIVER_DIR there, or a MicroPython checkout (MICROPY_DIR) has it as a submodule.
set(PICO_BOARD "pico_w")

set(MICROPY_PY_LWIP ON)
set(MICROPY_PY_NETWORK_CYW43 ON)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)

# The listen-queue hook of MFA_PICO's mfa_lwipopts.h, which this board includes too.
set(MICROPY_SOURCE_BOARD
    ${MICROPY_BOARD_DIR}/../MFA_PICO/mfa_syn_queue.c
)

# pico-sdk's cyw43_bus_pio_spi.c includes "pico/cyw43_driver.h". The directory holding it,
# pico_cyw43_driver/include, reaches a stock build only through the Bluetooth transport library,
# which this board leaves off; and it also holds pico-sdk's cyw43_configport.h, which would shadow
# MicroPython's own (ports/rp2/cyw43_configport.h). So expose that one header alone: a copy in
# an include directory of our own, inside the build directory.
get_filename_component(MFA_PICO_SDK_DIR ${PICO_SDK_PATH} ABSOLUTE BASE_DIR ${MICROPY_PORT_DIR})
set(MFA_CYW43_DRIVER_H ${MFA_PICO_SDK_DIR}/src/rp2_common/pico_cyw43_driver/include/pico/cyw43_driver.h)
if(NOT EXISTS ${MFA_CYW43_DRIVER_H})
    message(FATAL_ERROR "MFA_PICO_W: pico-sdk has no ${MFA_CYW43_DRIVER_H}")
endif()
configure_file(${MFA_CYW43_DRIVER_H} ${CMAKE_BINARY_DIR}/mfa_include/pico/cyw43_driver.h COPYONLY)
include_directories(${CMAKE_BINARY_DIR}/mfa_include)
