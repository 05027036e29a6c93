#!/bin/sh
# Builds the reference guest into build/conformance.wasm (or the path given as $1): a
# wasm32-wasi reactor for the zkguest WebAssembly ABI (protocol/SPEC.md §10), on the C ABI
# layer of examples/c-guest (zkguest.c, msgpack.c), used from there rather than copied.
#
# Needs Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (as examples/c-guest);
# set CC for another compiler and WASI_SYSROOT for another sysroot.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
layer="$here/../c-guest/src"
out=${1:-"$here/build/conformance.wasm"}
mkdir -p "$(dirname "$out")"

${CC:-clang} --target=wasm32-wasi ${WASI_SYSROOT:+--sysroot="$WASI_SYSROOT"} -mexec-model=reactor \
  -std=c11 -O2 -Wall -Wextra -Werror \
  -Wl,--stack-first -Wl,-z,stack-size=65536 \
  -I"$layer" -o "$out" "$here"/src/*.c "$layer/zkguest.c" "$layer/msgpack.c"
echo "built $out"
