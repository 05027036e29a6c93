#!/bin/sh
# Builds the example C guest into build/guest.wasm (or the path given as $1): a wasm32-wasi
# reactor for the zkguest WebAssembly ABI (protocol/SPEC.md §10).
#
# Needs Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32. Debian's clang finds
# wasi-libc by itself; set WASI_SYSROOT to use another sysroot (e.g. a wasi-sdk one).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/build/guest.wasm"}
mkdir -p "$(dirname "$out")"

# --stack-first puts C's stack below the data, so a stack overflow traps (out-of-bounds)
# instead of silently overwriting static data.
${CC:-clang} --target=wasm32-wasi ${WASI_SYSROOT:+--sysroot="$WASI_SYSROOT"} -mexec-model=reactor \
  -std=c11 -O2 -Wall -Wextra -Werror \
  -Wl,--stack-first -Wl,-z,stack-size=65536 \
  -o "$out" "$here"/src/*.c
echo "built $out"
