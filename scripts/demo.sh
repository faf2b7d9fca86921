#!/usr/bin/env bash
# From a fresh clone to the demo: installs what is missing, builds and installs the Python
# package (wheel with libconveyor, the Python API and the `conveyor` CLI), runs `conveyor demo`.
#   bash scripts/demo.sh [conveyor demo options...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$CONVEYOR_ROOT"

bash scripts/install-deps.sh
log "pip install . (builds libconveyor and the extension; a few minutes the first time)"
export CCACHE_NOHASHDIR=1
"$PYTHON" -m pip install "${pip_flags[@]}" .
cli="$(python_scripts_dir)/conveyor"
if [ ! -x "$cli" ]; then
  cli=""
fi
log "conveyor demo $*"
if [ -n "$cli" ]; then
  exec "$cli" demo "$@"
fi
exec "$PYTHON" -m conveyor demo "$@"
