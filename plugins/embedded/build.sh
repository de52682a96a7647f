#!/usr/bin/env bash
# Builds the shipped plugins (plugins/defaults/<id>) to WebAssembly, the one
# way they are built: `make plugins` writes them here (committed, embedded in
# the server with go:embed), `make plugins-check` builds them into a temporary
# folder and fails when they differ from the committed ones. The flags are
# fixed so two builds with the same Go version give the same bytes.
# Usage: plugins/embedded/build.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:?usage: build.sh OUTDIR}"
mkdir -p "$out"
GO="${GO:-go}"
for d in plugins/defaults/*/; do
  id="$(basename "$d")"
  GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS= "$GO" build -buildmode=c-shared -trimpath -buildvcs=false \
    -ldflags='-s -w -buildid=' -o "$out/$id.wasm" "./$d"
done
