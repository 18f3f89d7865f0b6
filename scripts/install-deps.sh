#!/usr/bin/env bash
# Install the Debian/Ubuntu packages mipnn needs: a C compiler, make, Python's venv, and
# the cross toolchains and emulators of the firmware targets (each target's make fragment
# in firmware/targets/*.mk lists its own APT_PACKAGES, and TEST_APT_PACKAGES for what its
# tests need beyond that, e.g. the Arduino core and Arduino-Makefile for avr). Installs
# only what is missing; uses sudo when not root.
# Usage: scripts/install-deps.sh [TARGET ...] (default: all).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

base="gcc make python3-venv python3-pip"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$here"/firmware/targets/*.mk; do targets+=("$(basename "$f" .mk)"); done
fi
pkgs="$base"
for t in "${targets[@]}"; do
    frag="$here/firmware/targets/$t.mk"
    [ -f "$frag" ] || { echo "install-deps: unknown target '$t' (no $frag)" >&2; exit 2; }
    pkgs="$pkgs $(sed -n 's/^\(TEST_\)\?APT_PACKAGES[[:space:]]*[:+]\?=[[:space:]]*//p' "$frag")"
done

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all system packages present"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found. This machine is not Debian/Ubuntu; install by hand:$missing" >&2
    echo "install-deps: (the Python parts still work; firmware targets whose tools are missing are skipped locally)" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "install-deps: not root and no sudo; as root run: apt-get install -y$missing" >&2
        exit 1
    fi
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
