#!/usr/bin/env bash
# Download the pinned Debian packages in sources.lock, verify them, unpack them and assemble a
# MicroPython tree whose lib/ entries point at the unpacked pico-sdk, tinyusb, lwIP and mbedtls.
#
# Usage: fetch_sources.sh CACHE_DIR      prints the MicroPython tree's path on its last line.
#
# apt runs with a private configuration (its own sources.list, lists and archive directories
# under CACHE_DIR) so the machine's apt setup is never touched; it works on Debian 12 and 13
# hosts because the trixie archive keys ship in both. When every file is already in the cache
# with the right hash, nothing is downloaded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lock=$here/sources.lock
cache=$1
dl=$cache/dl
aptdir=$cache/apt
srcdir=$cache/src
mkdir -p "$dl" "$srcdir"

log() { echo "fetch: $*" >&2; }

lock_rows() { grep -v '^#' "$lock" | grep -v '^[[:space:]]*$'; }

verified() {  # verified FILE SHA256
    [ -f "$dl/$1" ] && echo "$2  $dl/$1" | sha256sum -c --status -
}

apt_private() {
    local cmd=$1; shift
    "$cmd" -q \
        -o Dir::Etc::SourceList="$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
        -o Dir::State::Lists="$aptdir/lists" -o Dir::Cache="$aptdir/cache" \
        -o Dir::Cache::Archives="$aptdir/archives" -o Dir::State::status=/dev/null \
        -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

download_missing() {
    local missing=0 kind pkg ver file sha
    while read -r kind pkg ver file sha; do
        verified "$file" "$sha" || missing=1
    done < <(lock_rows)
    [ $missing = 1 ] || return 0

    command -v apt-get >/dev/null || { log "apt-get is needed to download Debian sources"; exit 1; }
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || { log "missing $keyring (install debian-archive-keyring)"; exit 1; }
    mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/cache"
    local mirror=${MFA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
    cat > "$aptdir/sources.list" <<LIST
deb [signed-by=$keyring] $mirror trixie main
deb-src [signed-by=$keyring] $mirror trixie main
deb [signed-by=$keyring] ${mirror}-security trixie-security main
deb-src [signed-by=$keyring] ${mirror}-security trixie-security main
LIST
    log "updating the private trixie package lists"
    apt_private apt-get update >"$aptdir/log" 2>&1 ||
        { tail -20 "$aptdir/log" >&2; log "apt-get update failed (log: $aptdir/log)"; exit 1; }
    while read -r kind pkg ver file sha; do
        verified "$file" "$sha" && continue
        log "downloading $pkg $ver"
        if [ "$kind" = src ]; then
            (cd "$dl" && apt_private apt-get source --download-only "$pkg=$ver") >>"$aptdir/log" 2>&1
        else
            (cd "$dl" && apt_private apt-get download "$pkg=$ver") >>"$aptdir/log" 2>&1
        fi || { tail -20 "$aptdir/log" >&2; log "downloading $pkg $ver failed (log: $aptdir/log)"; exit 1; }
        if ! verified "$file" "$sha"; then
            log "$file: missing or sha256 mismatch after download (expected $sha);"
            log "the archive may have dropped $pkg $ver: update sources.lock deliberately"
            exit 1
        fi
    done < <(lock_rows)
}

unpack() {
    local kind pkg ver file sha dest
    while read -r kind pkg ver file sha; do
        # Directories are named by package alone (versions carry '+' and '~', which some
        # build tools mishandle); the stamp inside records which file was unpacked.
        dest=$srcdir/$pkg
        [ "$(cat "$dest/.unpacked" 2>/dev/null)" = "$sha" ] && continue
        log "unpacking $file"
        rm -rf "$dest" && mkdir -p "$dest"
        if [ "$kind" = src ]; then
            tar -xf "$dl/$file" -C "$dest" --strip-components=1
        else
            dpkg-deb -x "$dl/$file" "$dest"
        fi
        echo "$sha" > "$dest/.unpacked"
    done < <(lock_rows)
}

assemble() {
    local mp=$srcdir/micropython
    local stamp=$mp/.assembled-$(sha256sum "$lock" | cut -c1-16)
    if [ ! -f "$stamp" ]; then
        log "assembling the MicroPython tree"
        local lib=$mp/lib
        rm -rf "$lib/pico-sdk" "$lib/tinyusb" "$lib/lwip" "$lib/mbedtls"
        ln -s "$srcdir/pico-sdk-source/usr/src/pico-sdk" "$lib/pico-sdk"
        ln -s "$srcdir/tinyusb-source/usr/src/tinyusb" "$lib/tinyusb"
        ln -s "$srcdir/lwip" "$lib/lwip"
        ln -s "$srcdir/mbedtls" "$lib/mbedtls"
        # MicroPython's build insists on a micropython-lib checkout whenever code is frozen,
        # even when the manifest needs nothing from it. Ours does not: it freezes only our
        # package and MicroPython's own asyncio.
        rm -rf "$lib/micropython-lib"  # (a link to a MICROPY_LIB_DIR goes, not what it points at)
        mkdir -p "$lib/micropython-lib"
        echo "Placeholder: no micropython-lib here (MICROPY_LIB_DIR links a checkout in its place)." \
            > "$lib/micropython-lib/README.md"
        rm -f "$mp"/.assembled-*
        touch "$stamp"
    fi
    echo "$mp"
}

download_missing
unpack
assemble
