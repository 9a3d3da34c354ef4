# What MicroPython's own RPI_PICO_W 1.25 firmware freezes from micropython-lib
# (ports/rp2/boards/manifest.py: onewire, ds18x20, dht, neopixel; RPI_PICO_W/manifest.py:
# bundle-networking = mip, ntptime, ssl, requests, urequests, webrepl), frozen here too when the
# MicroPython tree has micropython-lib (MICROPY_DIR with lib/micropython-lib, or
# MICROPY_LIB_DIR: build.sh says which set it froze). aioble is left out: it needs `bluetooth`
# (BTstack), which our boards do not have. The registry-only build has no micropython-lib (a
# placeholder directory): then nothing is frozen from it, and README.md ("What differs from
# MicroPython's own Pico W firmware") shows how to install these with mpremote mip.
STOCK = ("bundle-networking", "onewire", "ds18x20", "dht", "neopixel")
try:
    require(STOCK[0])
except ValueError:  # "not found in any known library": no micropython-lib in this tree
    STOCK = ()
for name in STOCK[1:]:
    require(name)
