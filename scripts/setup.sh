#!/usr/bin/env bash
# Everything probelab needs on a fresh Debian 12 machine (run as root): QEMU for arm64, dtc,
# kmod (depmod), xz and cpio, apt's arm64 index (kernels and busybox come from it); for
# dt-compiler and board profiles, linux-source-6.12 and -6.1 (scripts/dtc, device trees,
# drivers, Kconfig), clang-14 with wasi-libc (to rebuild dtc.wasm), flex, bison and gcc's cpp
# (the kernel's own pipeline, for conformance); for kernels built from source,
# gcc-aarch64-linux-gnu, bc, patch and ccache; chromium (headless, to check the matrix report);
# lava-dispatcher and lava-common (lava-run runs generated QEMU jobs; LAVA's job schema);
# then the npm packages and the build.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO dpkg --add-architecture arm64
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  qemu-system-arm device-tree-compiler kmod xz-utils cpio ca-certificates \
  linux-source-6.12 linux-source-6.1 clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 flex bison gcc cpp \
  gcc-aarch64-linux-gnu make bc patch ccache libc6-dev chromium lava-dispatcher lava-common >/dev/null
cd "$(dirname "$0")/.."
# `npm ci` refuses this lock file: rollup (under vitest) lists every platform's native build as an
# optional dependency, and the registry reachable here serves only linux-x64 ones, so the lock
# cannot name the others. `npm install` installs exactly what the lock file pins.
npm install --no-audit --no-fund
npm run build
