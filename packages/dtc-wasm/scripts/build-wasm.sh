#!/usr/bin/env bash
# Builds dtc.wasm: the kernel's own scripts/dtc from Debian's linux-source-6.12, unpatched,
# compiled to wasm32-wasi with Debian's clang-14 and wasi-libc. The lexer and parser are generated
# with flex and bison as scripts/Makefile.host does. Output: packages/dtc-wasm/dtc.wasm, and
# dtc.wasm.sha256. Needs: linux-source-6.12 clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
# flex bison (scripts/setup-dtc-wasm.sh installs them). The linear memory is imported, so that
# the JS side can give every run the same memory, zeroed, instead of reserving a new one. The stack
# is 8 MiB, as native dtc gets from the default ulimit, and comes first in memory, so that an
# overflow traps (an access below address 0) instead of overwriting dtc's data.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
[ -f "$src" ] || { echo "build-wasm: $src not found: apt-get install linux-source-6.12" >&2; exit 2; }
for t in clang-14 wasm-ld-14 flex bison; do
  command -v "$t" >/dev/null || { echo "build-wasm: $t not found (see scripts/setup-dtc-wasm.sh)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top=$(basename "$src" .tar.xz)
tar xJf "$src" -C "$work" "$top/scripts/dtc"
cd "$work/$top/scripts/dtc"
# scripts/Makefile.host: cmd_flex and cmd_bison
flex -odtc-lexer.lex.c -L dtc-lexer.l
bison -o dtc-parser.tab.c --defines=dtc-parser.tab.h -t -l dtc-parser.y
# scripts/dtc/Makefile: dtc-objs, HOST_EXTRACFLAGS (-I libfdt -DNO_YAML), -I . for generated files
objs="dtc.c flattree.c fstree.c data.c livetree.c treesource.c srcpos.c checks.c util.c dtc-lexer.lex.c dtc-parser.tab.c"
clang-14 --target=wasm32-wasi -O2 -DNO_YAML -I libfdt -I . -Wno-everything \
  -Wl,--strip-all -Wl,--import-memory -Wl,-z,stack-size=8388608 -Wl,--stack-first -o "$work/dtc.wasm" $objs
if [ "${1:-}" = "--check" ]; then
  # Rebuild and compare with the committed artefact, which must be exactly this build's output.
  want=$(cut -d' ' -f1 "$here/dtc.wasm.sha256")
  got=$(sha256sum "$work/dtc.wasm" | cut -d' ' -f1)
  have=$(sha256sum "$here/dtc.wasm" | cut -d' ' -f1)
  if [ "$got" = "$want" ] && [ "$have" = "$want" ]; then echo "build-wasm --check: dtc.wasm reproduced ($got)"; exit 0; fi
  echo "build-wasm --check: rebuilt $got, committed dtc.wasm $have, dtc.wasm.sha256 $want" >&2
  exit 1
fi
install -m 0644 "$work/dtc.wasm" "$here/dtc.wasm"
(cd "$here" && sha256sum dtc.wasm > dtc.wasm.sha256)
echo "build-wasm: $(stat -c %s "$here/dtc.wasm") bytes, $(cut -c1-16 "$here/dtc.wasm.sha256")… from $(basename "$src") ($top)"
