#!/usr/bin/env bash
# Regenerates go/internal/cabi (the cgo layer) from capi/include/conveyor/conveyor.h with SWIG
# (bindings/go/conveyor.i). The generated files are committed, so Go users need no SWIG;
# `scripts/go-generate.sh --check` (run by scripts/test.sh) fails when they are stale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$CONVEYOR_ROOT"
out=go/internal/cabi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
swig -go -cgo -intgosize 64 -Icapi/include -outdir "$tmp" -o "$tmp/cabi_wrap.c" \
  bindings/go/conveyor.i 2> >(grep -v 'Warning 451' >&2)
# SWIG's runtime copies returned C strings by viewing a uintptr as a pointer, which go vet
# flags; this equivalent form is vet-clean.
python3 - "$tmp/cabi.go" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
old = re.search(r"type swig_gostring struct \{ p uintptr; n int \}\nfunc swigCopyString\(s string\) string \{\n.*?\n\}\n", s, re.S)
assert old, "swigCopyString not found: SWIG output changed"
s = s.replace(old.group(0), "func swigCopyString(s string) string {\n"
              "\tr := strings.Clone(s)\n"
              "\tif len(s) > 0 {\n"
              "\t\tSwig_free(uintptr(unsafe.Pointer(unsafe.StringData(s))))\n"
              "\t}\n"
              "\treturn r\n"
              "}\n")
s = s.replace('import "sync"\n', 'import "strings"\nimport "sync"\n', 1)
open(p, "w").write(s)
PY
gofmt -w "$tmp/cabi.go"
if [ "${1:-}" = --check ]; then
  for f in cabi.go cabi_wrap.c; do
    if ! cmp -s "$tmp/$f" "$out/$f"; then
      echo "go-generate: $out/$f is stale; run scripts/go-generate.sh and commit" >&2
      diff -u "$out/$f" "$tmp/$f" | head -40 >&2
      exit 1
    fi
  done
  echo "go-generate: $out is up to date"
else
  cp "$tmp/cabi.go" "$tmp/cabi_wrap.c" "$out/"
  echo "go-generate: wrote $out/cabi.go and $out/cabi_wrap.c"
fi
