# Sourced by the scripts in this directory: repo root, the Python to use, pip flags, logging.
# shellcheck shell=bash

CONVEYOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONVEYOR_ROOT

# The Python that builds and runs everything: $PYTHON, else python3 on PATH.
PYTHON="${PYTHON:-python3}"
export PYTHON

# pip flags: quiet, no version check, and on a Debian-managed Python (PEP 668) permission to
# install beside the system packages (there is no virtualenv in CI).
pip_flags=(--disable-pip-version-check --no-input --progress-bar off -q)
if "$PYTHON" - <<'PY' 2>/dev/null; then
import sys, sysconfig, os
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED"))
         and sys.prefix == sys.base_prefix else 1)
PY
  pip_flags+=(--break-system-packages)
fi
if [ "$(id -u)" -eq 0 ]; then
  pip_flags+=(--root-user-action=ignore)
fi

# The directory pip puts console scripts in for this Python (conveyor's CLI lands there).
python_scripts_dir() {
  "$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
