#!/usr/bin/env bash
# microfastapi: the one entry point. Builds firmware and host binaries, runs tests and benchmarks.
#
#   ./build.sh                 everything: unix, unix-pure, MFA_PICO_W, MFA_PICO_W-pure (when a
#                              cyw43-driver is found, see below), MFA_PICO, MFA_PICO-pure
#   ./build.sh test            build everything, then run every test
#   ./build.sh TARGET...       only these: unix unix-pure MFA_PICO MFA_PICO-pure MFA_PICO_W
#                              MFA_PICO_W-pure host
#   ./build.sh serve APP.py    run an app on the unix build (PORT=8000 by default)
#   ./build.sh bench [--quick] the benchmark report (tests/bench), into build/bench/
#   ./build.sh clean           remove build/ (keeps the download cache in .cache/)
#
# Environment: CYW43_DRIVER_DIR=/path/to/cyw43-driver (a checkout of georgerobotics/cyw43-driver
# v1.1.0) for the Pico W firmware; unset, ../shared/cyw43-driver is used when it exists.
# MICROPY_DIR=/path/to/micropython uses your own MicroPython checkout (with its own
# lib/cyw43-driver) instead of the one assembled from Debian sources.
# MICROPY_LIB_DIR=/path/to/micropython-lib (a checkout, in no registry): the firmware freezes
# the micropython-lib modules of MicroPython's own RPI_PICO_W too (with MICROPY_DIR, its
# lib/micropython-lib is used); each firmware build says which set it froze.
# JOBS (default: number of cores), MFA_CACHE (default: .cache), TEST_WORKERS (pytest processes for
# ./build.sh test, default 2; 0 runs the tests in one process), TEST_TIMEOUT (seconds one test
# may take before it fails, default 900).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
CACHE=${MFA_CACHE:-$ROOT/.cache}
BUILD=$ROOT/build
# Object files: one directory per MicroPython tree, so a MICROPY_DIR build never mixes with
# the Debian one.
if [ -n "${MICROPY_DIR:-}" ]; then
    OBJ=$CACHE/obj-$(realpath -m "$MICROPY_DIR" | sha256sum | cut -c1-12)
else
    OBJ=$CACHE/obj
fi
JOBS=${JOBS:-$(nproc)}
VENV=$CACHE/venv
BOARDS=$ROOT/micropython_port/boards

# Debian packages the build and the tests need, by the command or file that shows they are there.
APT_NEEDS=(
    "arm-none-eabi-gcc:gcc-arm-none-eabi"
    "/usr/lib/arm-none-eabi/include/stdio.h:libnewlib-arm-none-eabi"
    "/usr/lib/arm-none-eabi/include/c++:libstdc++-arm-none-eabi-newlib"
    "cmake:cmake" "make:make" "gcc:gcc" "g++:g++" "dpkg-deb:dpkg" "xz:xz-utils"
    "bzip2:bzip2" "clang:clang" "valgrind:valgrind" "wrk:wrk" "curl:curl" "ip:iproute2"
    "chromium:chromium" "npm:npm"   # the docs page in a browser (tests/api/test_docs_browser.py)
)

say() { echo "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

have() {
    case $1 in
        /*) [ -e "$1" ] ;;
        *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

ensure_apt() {
    local missing=() need
    for need in "${APT_NEEDS[@]}"; do
        have "${need%%:*}" || missing+=("${need##*:}")
    done
    # libFuzzer and the sanitizer runtimes come with clang's runtime package.
    if have clang && ! clang -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
        missing+=(libclang-rt-dev)
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
    local req=$ROOT/tests/requirements.txt stamp=$VENV/.requirements
    if [ -x "$VENV/bin/python" ] && cmp -s "$req" "$stamp"; then
        return 0
    fi
    say "installing Python test dependencies into $VENV"
    mkdir -p "$OBJ"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req" >"$OBJ/pip.log" 2>&1 ||
        { grep -v "is ignored" "$OBJ/pip.log" | tail -20; die "pip install failed (log: $OBJ/pip.log)"; }
    cp "$req" "$stamp"
}

# ensure_venv in the background: pip's downloads go on while the firmware compiles (a minute of
# CI's time); venv_wait collects it before the tests.
venv_start() {
    ensure_apt
    mkdir -p "$OBJ"
    ensure_venv >"$OBJ/venv.out" 2>&1 &
    VENV_PID=$!
}

venv_wait() {
    local rc=0
    wait "$VENV_PID" || rc=$?
    cat "$OBJ/venv.out" >&2
    [ "$rc" -eq 0 ] || die "the Python test dependencies could not be installed"
}

# The MicroPython tree: the user's MICROPY_DIR, or the one assembled from pinned Debian sources.
mp_tree() {
    if [ -n "${MICROPY_DIR:-}" ]; then
        [ -f "$MICROPY_DIR/py/mpconfig.h" ] || die "MICROPY_DIR=$MICROPY_DIR is not a MicroPython tree"
        echo "$MICROPY_DIR"
    else
        "$ROOT/micropython_port/fetch_sources.sh" "$CACHE"
    fi
}

build_mpy_cross() {
    local mp=$1
    MPY_CROSS=$OBJ/mpy-cross/mpy-cross
    make -s -C "$mp/mpy-cross" -j"$JOBS" BUILD="$OBJ/mpy-cross" >"$OBJ/mpy-cross.log" 2>&1 ||
        { tail -30 "$OBJ/mpy-cross.log"; die "mpy-cross failed (log: $OBJ/mpy-cross.log)"; }
    export MICROPY_MPYCROSS=$MPY_CROSS
}

# Copy then rename, so a binary that is running (a test server) is replaced, not written into.
install_file() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp.$$"
    mv -f "$2.tmp.$$" "$2"
}

# build_unix NAME WITH_MFA: the unix port with our frozen package, with or without _mfa.
build_unix() {
    local name=$1 with_mfa=$2 mp=$3 log=$OBJ/$1.log
    local args=(BUILD="$OBJ/$name" PROG=micropython MPY_CROSS="$MPY_CROSS"
        FROZEN_MANIFEST="$ROOT/micropython_port/manifest.py"
        MICROPY_PY_FFI=0 MICROPY_PY_SSL=0 MICROPY_PY_BTREE=0)
    [ "$with_mfa" = 1 ] && args+=(USER_C_MODULES="$ROOT/cmodules")
    say "building $name"
    # frozen_content.c names qstrs but is only remade when Python files change: a qstr that
    # a C change dropped would leave it stale. Remaking it costs a second; mpy files are cached.
    rm -f "$OBJ/$name/frozen_content.c"
    make -C "$mp/ports/unix" -j"$JOBS" "${args[@]}" >"$log" 2>&1 ||
        { grep -E "error|Error" "$log" | head -30; die "$name failed (log: $log)"; }
    install_file "$OBJ/$name/micropython" "$BUILD/$name/micropython"
}

# build_rp2 BOARD VARIANT: firmware for one of our boards; VARIANT PURE leaves out _mfa.
build_rp2() {
    local board=$1 variant=$2 mp=$3
    local name=$board${variant:+-pure} dir=$OBJ/$board${variant:+-pure}
    local args=(-DMICROPY_BOARD="$board" -DMICROPY_BOARD_DIR="$BOARDS/$board"
        -DPICO_NO_PICOTOOL=1 -DCMAKE_BUILD_TYPE=MinSizeRel)
    if [ -n "$variant" ]; then
        args+=(-DMICROPY_BOARD_VARIANT="$variant")
    else
        args+=(-DUSER_C_MODULES="$ROOT/cmodules/micropython.cmake")
    fi
    if [ "$board" = MFA_PICO_W ]; then
        # Objects built against another driver directory are not reused (make compares times).
        local drv
        drv=$(realpath "$mp/lib/cyw43-driver")
        [ "$(cat "$dir/.cyw43-driver" 2>/dev/null)" = "$drv" ] || rm -rf "$dir"
        mkdir -p "$dir" && echo "$drv" >"$dir/.cyw43-driver"
    fi
    say "building $name"
    cmake -S "$mp/ports/rp2" -B "$dir" "${args[@]}" >"$dir.cmake.log" 2>&1 ||
        { tail -30 "$dir.cmake.log"; die "$name: cmake failed (log: $dir.cmake.log)"; }
    rm -f "$dir/frozen_content.c"  # see build_unix
    cmake --build "$dir" -j"$JOBS" >"$dir.log" 2>&1 ||
        { grep -E "error|Error" "$dir.log" | head -30; die "$name failed (log: $dir.log)"; }
    # picotool is not in Debian: MicroPython's own uf2conv.py makes the .uf2 (RP2040 family).
    python3 "$mp/tools/uf2conv.py" -c -b 0x10000000 -f 0xe48bff56 \
        -o "$dir/firmware.uf2" "$dir/firmware.bin" >/dev/null
    # The filesystem is the top MICROPY_HW_FLASH_STORAGE_BYTES of the 2 MB flash: an image that
    # reaches into it is overwritten when the board formats its filesystem at first boot (and
    # then does not boot: MFA_PICO did, once the multipart scanner took it past 640 KB).
    local kb room size
    kb=$(sed -n 's/.*MICROPY_HW_FLASH_STORAGE_BYTES *( *\([0-9]*\) *\* *1024 *).*/\1/p' \
        "$BOARDS/$board/mpconfigboard.h")
    room=$((2048 * 1024 - ${kb:-0} * 1024))
    size=$(stat -c %s "$dir/firmware.bin")
    [ "$size" -le "$room" ] || die "$name: firmware.bin is $size bytes, more than the $room" \
        "bytes below its filesystem (MICROPY_HW_FLASH_STORAGE_BYTES in $BOARDS/$board/mpconfigboard.h)"
    say "$name froze $(frozen_set "$mp")"
    install_file "$dir/firmware.uf2" "$BUILD/$name/firmware.uf2"
    install_file "$dir/firmware.elf" "$BUILD/$name/firmware.elf"
    install_file "$dir/firmware.elf.map" "$BUILD/$name/firmware.map"
}

# The Pico W's WiFi driver, cyw43-driver, is in no package registry. MicroPython 1.25 pins v1.1.0.
CYW43_NEED="georgerobotics/cyw43-driver v1.1.0 (git clone -b v1.1.0 https://github.com/georgerobotics/cyw43-driver)"

# cyw43_dir: the driver directory to use, or nothing when none was given or found.
cyw43_dir() {
    if [ -n "${MICROPY_DIR:-}" ]; then
        echo "$MICROPY_DIR/lib/cyw43-driver"
    elif [ -n "${CYW43_DRIVER_DIR:-}" ]; then
        echo "$CYW43_DRIVER_DIR"
    elif [ -d "$ROOT/../shared/cyw43-driver" ]; then
        realpath "$ROOT/../shared/cyw43-driver"
    fi
}

# cyw43_problem DIR: one line naming what is wrong with DIR as a cyw43-driver v1.1.0, or nothing.
cyw43_problem() {
    local dir=$1 h=$1/src/cyw43.h v
    if [ ! -e "$dir" ]; then
        echo "cyw43-driver: $dir does not exist; need $CYW43_NEED"
    elif [ ! -f "$h" ]; then
        echo "cyw43-driver: $dir has no src/cyw43.h (not a cyw43-driver checkout, or an uninitialised submodule); need $CYW43_NEED"
    else
        v=$(awk '/#define CYW43_VERSION_(MAJOR|MINOR|MICRO) / { printf "%s%s", sep, $3; sep = "." }' "$h")
        if [ "$v" != 1.1.0 ]; then
            echo "cyw43-driver: $dir is version ${v:-unknown} (src/cyw43.h); need $CYW43_NEED"
        elif [ ! -f "$dir/firmware/w43439A0_7_95_49_00_combined.h" ]; then
            echo "cyw43-driver: $dir has no firmware/w43439A0_7_95_49_00_combined.h (the CYW43439 firmware blob); need $CYW43_NEED"
        fi
    fi
}

# pico_w_missing: why the Pico W firmware cannot be built here (one line), or nothing.
pico_w_missing() {
    local dir
    dir=$(cyw43_dir)
    if [ -z "$dir" ]; then
        echo "MFA_PICO_W needs cyw43-driver (in no package registry): set CYW43_DRIVER_DIR to a checkout of $CYW43_NEED"
    elif [ -n "${MICROPY_DIR:-}" ] && [ ! -f "$dir/src/cyw43.h" ]; then
        echo "cyw43-driver: $dir is empty; run: git -C $MICROPY_DIR submodule update --init lib/cyw43-driver"
    else
        cyw43_problem "$dir"
    fi
}

# link_cyw43 TREE: make the assembled Debian tree's lib/cyw43-driver a symlink to the driver
# (never a copy: the driver is licensed for RP2040 use and is not ours to vendor).
link_cyw43() {
    local lib=$1/lib/cyw43-driver dir
    dir=$(realpath "$(cyw43_dir)")
    [ "$(readlink "$lib" 2>/dev/null)" = "$dir" ] && return 0
    rm -rf "$lib"
    ln -s "$dir" "$lib"
}

# The assembled tree's lib/micropython-lib: MICROPY_LIB_DIR linked in, or else the placeholder
# fetch_sources.sh made (a link left by an earlier MICROPY_LIB_DIR build is taken away).
link_micropython_lib() {
    local lib=$1/lib/micropython-lib dir
    if [ -n "${MICROPY_LIB_DIR:-}" ]; then
        dir=$(realpath "$MICROPY_LIB_DIR")
        [ -f "$dir/micropython/bundles/bundle-networking/manifest.py" ] ||
            die "MICROPY_LIB_DIR=$MICROPY_LIB_DIR is not a micropython-lib checkout (no micropython/bundles/bundle-networking)"
        [ "$(readlink "$lib" 2>/dev/null)" = "$dir" ] && return 0
        rm -rf "$lib"
        ln -s "$dir" "$lib"
    elif [ -L "$lib" ]; then
        rm -f "$lib"
        mkdir -p "$lib"
        echo "Placeholder: no micropython-lib here (MICROPY_LIB_DIR links a checkout in its place)." >"$lib/README.md"
    fi
}

# What the rp2 firmware froze besides MicroPython's own modules (stock_micropython_lib.py).
frozen_set() {
    if [ -f "$1/lib/micropython-lib/micropython/bundles/bundle-networking/manifest.py" ]; then
        echo "microfastapi + the stock board's micropython-lib modules (bundle-networking, onewire, ds18x20, dht, neopixel; not aioble: no bluetooth)"
    else
        echo "microfastapi only: no micropython-lib in the tree (README.md, \"What differs\": mpremote mip install)"
    fi
}

host_core() {  # the portable C core on the host: unit tests, sanitizers, fuzzers
    say "building the host C core (build/host)"
    local gen=()
    [ -f "$BUILD/host/CMakeCache.txt" ] || gen=(-DCMAKE_BUILD_TYPE=Debug)
    CC=${CC:-clang} cmake -S "$ROOT" -B "$BUILD/host" "${gen[@]}" >"$OBJ/host.cmake.log" 2>&1 ||
        { tail -30 "$OBJ/host.cmake.log"; die "host: cmake failed"; }
    cmake --build "$BUILD/host" -j"$JOBS" >"$OBJ/host.log" 2>&1 ||
        { grep -E "error|Error" "$OBJ/host.log" | head -30; die "host build failed (log: $OBJ/host.log)"; }
}

# pico_w_check TREE TARGET...: "yes" when a Pico W target is asked for and its driver is fine
# (then linked into the tree). A driver that is there but wrong, or none when MFA_PICO_W was
# named on the command line, stops the build with one line; with none in the default set
# (./build.sh, ./build.sh test), the line is printed and the Pico W is left out.
pico_w_check() {
    local mp=$1 why
    shift
    case " $* " in *" MFA_PICO_W "* | *" MFA_PICO_W-pure "*) ;; *) return 0 ;; esac
    why=$(pico_w_missing)
    if [ -z "$why" ]; then
        [ -n "${MICROPY_DIR:-}" ] || link_cyw43 "$mp"
        echo yes
    elif [ -n "$(cyw43_dir)" ] || [ -n "${PICO_W_EXPLICIT:-}" ]; then
        die "$why"
    else
        say "$why"
    fi
}

build_targets() {
    local mp target pico_w
    ensure_apt
    mkdir -p "$OBJ" "$BUILD"
    # One build at a time per checkout: two at once would write the same object files.
    exec 9>"$CACHE/build.lock"
    flock 9
    mp=$(mp_tree)
    [ -n "${MICROPY_DIR:-}" ] || link_micropython_lib "$mp"
    pico_w=$(pico_w_check "$mp" "$@")
    build_mpy_cross "$mp"
    for target in "$@"; do
        case $target in
            unix) build_unix unix 1 "$mp" ;;
            unix-pure) build_unix unix-pure 0 "$mp" ;;
            MFA_PICO) build_rp2 MFA_PICO "" "$mp" ;;
            MFA_PICO-pure) build_rp2 MFA_PICO PURE "$mp" ;;
            MFA_PICO_W) [ "$pico_w" = yes ] && build_rp2 MFA_PICO_W "" "$mp" ;;
            MFA_PICO_W-pure) [ "$pico_w" = yes ] && build_rp2 MFA_PICO_W PURE "$mp" ;;
            host) host_core ;;
            *) die "unknown target '$target' (see ./build.sh help)" ;;
        esac
    done
    exec 9>&-  # release the lock before tests, so they don't hold it
}

summary() {
    local f
    echo
    echo "Built:"
    for f in "$BUILD"/unix/micropython "$BUILD"/unix-pure/micropython; do
        [ -f "$f" ] && printf '  %-40s %8d bytes\n' "${f#$ROOT/}" "$(stat -c %s "$f")"
    done
    for f in "$BUILD"/MFA_PICO_W/firmware.elf "$BUILD"/MFA_PICO_W-pure/firmware.elf \
        "$BUILD"/MFA_PICO/firmware.elf "$BUILD"/MFA_PICO-pure/firmware.elf; do
        [ -f "$f" ] || continue
        # text + data is what the firmware takes in flash; bss is static RAM.
        arm-none-eabi-size "$f" | awk -v n="${f%/firmware.elf}" -v r="$ROOT/" 'NR == 2 {
            sub(r, "", n); printf "  %-40s %8d bytes flash, %6d bytes static RAM\n", n "/firmware.uf2", $1 + $2, $2 + $3 }'
    done
    echo "Flash a board: hold BOOTSEL, plug it in, copy its firmware.uf2 onto the RPI-RP2 drive."
}

run_tests() {
    ensure_venv
    local py=$VENV/bin/python
    say "C unit tests (ctest, ASan + UBSan)"
    ctest --test-dir "$BUILD/host" --output-on-failure -j"$JOBS"
    if [ -x "$ROOT/tests/fuzz/run.sh" ]; then
        say "fuzzing the parser, the chunked decoder, the JSON check, the WebSocket reader and the multipart scanner (${FUZZ_SECONDS:-15} s, side by side)"
        "$ROOT/tests/fuzz/run.sh" "${FUZZ_SECONDS:-15}"
    fi
    say "pytest"
    # Exit code 5 (no tests collected) is a failure too: pytest returns it as non-zero.
    # --durations: CI logs name the slowest tests, so a slow run can be explained.
    # Test files are spread over TEST_WORKERS processes whole (--dist loadfile), so a module's
    # fixtures (a booted chip, the quick benchmark run) are made once.
    local workers=${TEST_WORKERS:-2} par=()
    [ "$workers" -gt 0 ] && par=(-n "$workers" --dist loadfile)
    # Without a cyw43-driver the Pico W tests skip, with this reason (tests/conftest.py).
    [ -z "${pico_w_tests_skip:-}" ] || say "Pico W tests will skip: $pico_w_tests_skip"
    PATH=$VENV/bin:$PATH MFA_BUILD=$BUILD MFA_PICO_W_SKIP=${pico_w_tests_skip:-} "$py" -m pytest "$ROOT/tests" -q -p no:cacheprovider \
        --durations=40 --timeout="${TEST_TIMEOUT:-900}" "${par[@]}" "$@"
}

main() {
    local cmd=${1:-all}
    case $cmd in
        all)
            build_targets unix unix-pure MFA_PICO_W MFA_PICO_W-pure MFA_PICO MFA_PICO-pure
            summary
            ;;
        test)
            shift
            venv_start
            build_targets unix unix-pure MFA_PICO_W MFA_PICO_W-pure MFA_PICO MFA_PICO-pure host
            venv_wait
            pico_w_tests_skip=$(pico_w_missing)
            run_tests "$@"
            ;;
        serve)
            [ $# -ge 2 ] || die "usage: ./build.sh serve APP.py"
            [ -x "$BUILD/unix/micropython" ] || build_targets unix
            MICROPYPATH=$(dirname "$(realpath "$2")"):.frozen PORT=${PORT:-8000} \
                exec "$BUILD/unix/micropython" "$2"
            ;;
        bench)
            shift
            build_targets unix unix-pure MFA_PICO_W MFA_PICO_W-pure MFA_PICO MFA_PICO-pure host
            ensure_venv
            PATH=$VENV/bin:$PATH MFA_BUILD=$BUILD MFA_PICO_W_SKIP=$(pico_w_missing) \
                exec "$VENV/bin/python" "$ROOT/tests/bench/run.py" "$@"
            ;;
        clean) rm -rf "$BUILD" "$OBJ" ;;
        help | -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' ;;
        *) PICO_W_EXPLICIT=1 build_targets "$@" ;;
    esac
}

main "$@"
