#!/bin/sh
# Builds a C plugin to a WebAssembly module for the payment server (ABI
# tari_v1, plugins/ABI.md): the plugin's sources plus sdk/c/tari_plugin.c,
# linked against wasi-libc as a WASI reactor.
#
#   sdk/c/build.sh OUT.wasm main.c [more.c ...]
#
# Toolchain (Debian 12): apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
# (clang, wasm-ld, the wasm32-wasi C library, and compiler-rt's builtins, which
# printf's long double support needs). Elsewhere, point WASI_CC at a clang with the
# wasm32 target and WASI_SYSROOT at a wasi-libc sysroot (wasi-sdk has both).
#
# The committed modules (examples/*-c/plugin.wasm, plugins/testdata/*-c/
# plugin.wasm) are built with Debian 12's clang 14.0.6 and wasi-libc
# 0.0~git20220510; the same toolchain gives the same bytes (no debug info, no
# names, no paths: the output does not depend on where the tree lives), which
# `make examples-c-check` and the plugins tests check. Another clang gives a
# different, equally valid module.
#
# Flags, and why:
#   --target=wasm32-wasi       WASI preview 1, the only system interface the host offers
#   -mexec-model=reactor       exports _initialize (constructors) instead of _start/main
#   -O2                        small and fast; the host instruments every loop header
#   -g0 -Wl,--strip-all        no debug info, names or source paths: smaller, reproducible
#   -DNDEBUG                   assert() would embed source paths
#   -Wl,-z,stack-size=65536    the C stack (the manifest's memory_pages must cover it
#                              plus the heap; 64 KiB pages)
# WASI_CFLAGS adds flags (e.g. -msimd128; a module with SIMD runs under the
# host's slower deadline guard, plugins/ABI.md).
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 OUT.wasm main.c [more.c ...]" >&2
	exit 2
fi
out=$1
shift
sdk=$(cd "$(dirname "$0")" && pwd)
cc=${WASI_CC:-clang}
sysroot=
if [ -n "${WASI_SYSROOT:-}" ]; then
	sysroot="--sysroot=$WASI_SYSROOT"
fi
command -v "$cc" >/dev/null 2>&1 || {
	echo "$0: $cc not found: install clang lld wasi-libc libclang-rt-dev-wasm32 (Debian) or set WASI_CC" >&2
	exit 1
}
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# shellcheck disable=SC2086 # sysroot is one word or empty; WASI_CFLAGS is a list
"$cc" --target=wasm32-wasi $sysroot -mexec-model=reactor \
	-std=c11 -O2 -g0 -DNDEBUG -Wall -Wextra \
	-I "$sdk" \
	-Wl,--strip-all -Wl,-z,stack-size=65536 ${WASI_CFLAGS:-} \
	-o "$tmp" "$@" "$sdk/tari_plugin.c"
mv "$tmp" "$out"
