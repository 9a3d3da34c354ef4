"""Our firmware against MicroPython's own RPI_PICO_W 1.25 firmware (issue 21).

- The modules each image lists with help('modules') are compared with the recorded stock list
  (stock_rpi_pico_w_modules.json: every module with where it comes from, read from MicroPython
  v1.25.0's rp2 config and manifests and micropython-lib at the commit v1.25.0 pins). Every stock
  module an image lacks must be named in README.md's table of differences with its remedy, and
  every module named there must in fact be missing (a stale line fails too).
- The parts that live in the MicroPython tree itself work: tls over mbedtls, hashlib's
  algorithms, cryptolib, deflate, framebuf, onewire's C part, PIO, the machine classes.
- A .mpy compiled by mpy-cross loads from the filesystem's /lib, which is where
  `mpremote mip install` puts micropython-lib packages (stand-ins here: micropython-lib is in no
  registry).
- The flash and RAM budget is printed (figures, not assertions).
"""
import json
import pathlib
import re
import subprocess

import pytest

from tests.emu.emulator import Emulator, put_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
STOCK = json.loads((ROOT / "tests" / "emu" / "stock_rpi_pico_w_modules.json").read_text())
MPY_CROSS = ROOT / ".cache" / "obj" / "mpy-cross" / "mpy-cross"


@pytest.fixture(scope="module", params=["MFA_PICO_W", "MFA_PICO"])
def chip(request):
    fw = request.getfixturevalue("firmware_w_mfa" if request.param == "MFA_PICO_W"
                                 else "firmware_mfa")
    with Emulator(fw) as emu:  # (its own chip: the .mpy case writes to the filesystem)
        emu.fw = request.param
        emu.uf2 = pathlib.Path(fw)
        yield emu


def listed_modules(emu):
    out = emu.run("help('modules')")
    assert "Plus any modules on the filesystem" in out, out
    return set(out.replace("Plus any modules on the filesystem", "").split())


def readme_differences():
    """README.md's table of stock modules our firmware lacks: {module: remedy}."""
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- modules-differences -->")
    end = text.index("<!-- /modules-differences -->")
    rows = {}
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells[-1]
    return rows


def readme_name(module):
    """A frozen package shows as pkg/__init__ and pkg/sub: the README names the package."""
    return module.split("/")[0]


def from_micropython_lib(module):
    return STOCK["modules"][module]["kind"] == "frozen-micropython-lib"


def test_every_stock_module_is_there_or_named_in_the_readme(chip):
    ours = listed_modules(chip)
    stock = set(STOCK["modules"])
    missing = stock - ours
    named = readme_differences()
    unnamed = sorted(m for m in missing if readme_name(m) not in named)
    assert not unnamed, "stock modules missing on %s and not in README.md: %s" % (chip.fw, unnamed)
    with_lib = any(from_micropython_lib(m) for m in stock & ours)
    if with_lib:
        # Built with micropython-lib (MICROPY_LIB_DIR, or a MICROPY_DIR that has it): the stock
        # set is frozen, all but what needs bluetooth (BTstack).
        assert sorted(missing) == sorted(m for m in stock if m == "bluetooth" or
                                         m.startswith("aioble/")), missing
    stale = sorted(n for n in named if any(readme_name(m) == n for m in ours)
                   and not (with_lib and all(from_micropython_lib(m) for m in stock
                                             if readme_name(m) == n)))
    assert not stale, "README.md names as missing what %s has: %s" % (chip.fw, stale)
    assert all(named[n] for n in named), named  # every line says its remedy
    extra = sorted(ours - stock)
    print("\n%s: %d of the %d stock modules; missing %s; ours on top: %s"
          % (chip.fw, len(stock & ours), len(stock), sorted(missing), extra))
    assert "_mfa" in ours and "microfastapi/__init__" in ours


# What the stock board's config compiles in from the MicroPython tree (STOCK's "builtin"
# entries), used as a user's code uses it.
TREE_PARTS = r"""
import tls, hashlib, cryptolib, deflate, framebuf, _onewire, rp2, machine, io, binascii
ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
print("tls", ctx is not None, hasattr(tls, "MBEDTLS_VERSION") or hasattr(tls, "CERT_REQUIRED"))
for name in ("sha1", "sha256", "md5"):
    h = getattr(hashlib, name, None)
    print("hashlib." + name, h is not None and binascii.hexlify(h(b"abc").digest())[:8])
aes = cryptolib.aes(b"k" * 16, 1)
print("cryptolib", len(aes.encrypt(b"x" * 16)) == 16)
data = binascii.a2b_base64(GZIPPED)  # (decompression only, as on the stock board)
print("deflate", deflate.DeflateIO(io.BytesIO(data), deflate.GZIP).read() == b"hello " * 20)
fb = framebuf.FrameBuffer(bytearray(8 * 8 // 8), 8, 8, framebuf.MONO_HLSB)
fb.pixel(1, 1, 1)
print("framebuf", fb.pixel(1, 1) == 1)
print("_onewire", all(hasattr(_onewire, n) for n in ("reset", "readbyte", "writebyte", "crc8")))
print("rp2", all(hasattr(rp2, n) for n in ("PIO", "StateMachine", "asm_pio", "Flash", "DMA")))
names = ("Pin", "ADC", "I2C", "SoftI2C", "SPI", "SoftSPI", "UART", "PWM", "Timer", "WDT", "RTC",
         "Signal", "I2S", "bitstream", "mem32", "freq", "unique_id", "lightsleep", "dht_readinto")
print("machine", [n for n in names if not hasattr(machine, n)])
"""


def test_the_parts_in_the_micropython_tree_work(chip):
    import binascii
    import gzip
    gz = binascii.b2a_base64(gzip.compress(b"hello " * 20), newline=False).decode()
    script = "GZIPPED = %r\n" % gz + TREE_PARTS
    out = dict(line.split(" ", 1) for line in chip.run(script).strip().splitlines())
    assert out["tls"] == "True True", out
    assert out["hashlib.sha1"] == "b'a9993e36'" and out["hashlib.sha256"] == "b'ba7816bf'", out
    for k in ("cryptolib", "deflate", "framebuf", "_onewire", "rp2"):
        assert out[k] == "True", (k, out)
    assert out["machine"] == "[]", out  # every class the stock board has
    print("\n%s: hashlib.md5 %s" % (chip.fw, out["hashlib.md5"]))


STANDIN = '''
"""A stand-in for a micropython-lib package installed with mpremote mip install."""
VERSION = "0.0.1"


def checksum(data):
    return sum(data) & 0xFFFF
'''


def test_a_mpy_from_the_filesystem_loads(chip, tmp_path):
    """What `mpremote mip install ssl neopixel ...` does for micropython-lib: .mpy files (a
    module, a package) in /lib, imported by name."""
    src = tmp_path / "mfa_standin.py"
    src.write_text(STANDIN)
    subprocess.run([str(MPY_CROSS), "-o", str(tmp_path / "mfa_standin.mpy"), str(src)],
                   check=True, timeout=60)
    pkg = tmp_path / "pkg_init.py"
    pkg.write_text("from mfa_standin import checksum\nNAME = 'pkg'\n")
    subprocess.run([str(MPY_CROSS), "-o", str(tmp_path / "pkg_init.mpy"), str(pkg)],
                   check=True, timeout=60)
    chip.run("import os\nfor d in ('/lib', '/lib/mfa_standin_pkg'):\n"
             "    try:\n        os.mkdir(d)\n    except OSError:\n        pass")
    put_file(chip, "/lib/mfa_standin.mpy", (tmp_path / "mfa_standin.mpy").read_bytes())
    put_file(chip, "/lib/mfa_standin_pkg/__init__.mpy", (tmp_path / "pkg_init.mpy").read_bytes())
    out = chip.run("import mfa_standin, mfa_standin_pkg\nprint(mfa_standin.__file__)\n"
                   "print(mfa_standin.VERSION, mfa_standin.checksum(b'abc'), "
                   "mfa_standin_pkg.NAME)")
    path, rest = out.strip().split("\n")
    assert path == "/lib/mfa_standin.mpy"
    assert rest == "0.0.1 294 pkg"


def test_flash_and_ram_budget(chip):
    """Figures for the README: firmware size (the .uf2's payload), filesystem size and free
    heap at boot. Stock RPI_PICO_W 1.25 leaves 848 KB of its 2 MB for the filesystem."""
    data = chip.uf2.read_bytes()
    blocks = len(data) // 512
    payload = sum(int.from_bytes(data[i * 512 + 16:i * 512 + 20], "little")
                  for i in range(blocks))
    out = chip.run("import os, gc\ns = os.statvfs('/')\nprint(s[0] * s[2], s[0] * s[3])\n"
                   "gc.collect()\nprint(gc.mem_free())")
    fs, fs_free, heap = (int(x) for x in out.split())
    print("\n%s: firmware %d KB (of 2,048 KB flash), filesystem %d KB (%d KB free), "
          "free heap at boot %d bytes" % (chip.fw, payload // 1024, fs // 1024, fs_free // 1024,
                                          heap))
    assert payload + fs <= 2 * 1024 * 1024
