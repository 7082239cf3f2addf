#!/usr/bin/env bash
# Everything probelab needs on a fresh Debian 12 machine (run as root): QEMU for arm64, dtc,
# kmod (depmod), xz and cpio, apt's arm64 index (kernels and busybox come from it), then npm ci
# and the build.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO dpkg --add-architecture arm64
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  qemu-system-arm device-tree-compiler kmod xz-utils cpio ca-certificates >/dev/null
cd "$(dirname "$0")/.."
# `npm ci` refuses this lock file: rollup (under vitest) lists every platform's native build as an
# optional dependency, and the registry reachable here serves only linux-x64 ones, so the lock
# cannot name the others. `npm install` installs exactly what the lock file pins.
npm install --no-audit --no-fund
npm run build
