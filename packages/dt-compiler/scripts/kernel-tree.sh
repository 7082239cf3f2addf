#!/usr/bin/env bash
# Unpacks what DTB builds need from Debian's linux-source-6.12 (scripts/dtc, the arm and arm64
# dts trees, include/dt-bindings) and builds the tree's own dtc natively, as the kernel's build
# would (flex/bison as in scripts/Makefile.host, the dtc-objs of scripts/dtc/Makefile).
# Prints the tree's path. Cached under $PROBELAB_CACHE (default ~/.cache/probelab).
set -euo pipefail
src=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
[ -f "$src" ] || { echo "kernel-tree: $src not found: apt-get install linux-source-6.12" >&2; exit 2; }
top=$(basename "$src" .tar.xz)
cache=${PROBELAB_CACHE:-$HOME/.cache/probelab}/kernel-trees
tree="$cache/$top"
if [ ! -x "$tree/scripts/dtc/dtc" ] || [ ! -f "$tree/include/uapi/linux/input-event-codes.h" ]; then
  # Build in a private directory and move it into place, so that parallel callers never see
  # each other's half-unpacked tree; the loser of the race throws its copy away.
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.$top.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  tar xJf "$src" -C "$tmp" "$top/scripts/dtc" "$top/arch/arm64/boot/dts" "$top/arch/arm/boot/dts" "$top/include/dt-bindings" "$top/include/uapi/linux/input-event-codes.h"
  ( cd "$tmp/$top/scripts/dtc"
    flex -odtc-lexer.lex.c -L dtc-lexer.l
    bison -o dtc-parser.tab.c --defines=dtc-parser.tab.h -t -l dtc-parser.y
    gcc -O2 -DNO_YAML -I libfdt -I . -o dtc dtc.c flattree.c fstree.c data.c livetree.c treesource.c srcpos.c checks.c util.c dtc-lexer.lex.c dtc-parser.tab.c )
  if [ ! -x "$tree/scripts/dtc/dtc" ] || [ ! -f "$tree/include/uapi/linux/input-event-codes.h" ]; then
    rm -rf "$tree"
    mv "$tmp/$top" "$tree" 2>/dev/null || [ -x "$tree/scripts/dtc/dtc" ]
  fi
fi
echo "$tree"
