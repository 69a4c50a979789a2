#!/usr/bin/env bash
# setup_venv.sh — creates .venv-bench (the peers' venv) and installs each peer package.
#
# Each package is installed on its own, so one that fails (no wheel for this
# platform, registry unreachable, ...) does not stop the others; its pip error is
# kept in .venv-bench/install-<name>.log and run.py reports the peer as failed
# with that text. torch is pinned (never an unpinned torch: multi-GB CUDA wheels).
# horus itself runs from the main .venv (it needs the project's build), so it is
# not installed here.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
VB=${VENV_BENCH:-.venv-bench}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VB/bin/python" ]; then
  "$PYTHON" -m venv "$VB" || exit 1
  # keep git (and the device-copy of the work tree) away from the venv
  echo '*' > "$VB/.gitignore"
fi
PKGS=(
  "numpy==2.4.6"
  "torch==2.13.0"
  "matplotlib==3.11.2"
  "pyzmq==27.3.0"
  "iceoryx2==0.10.0"
  "horus-robotics==0.4.1"
  "eclipse-zenoh==1.10.2"
)
for spec in "${PKGS[@]}"; do
  name=${spec%%==*}
  stamp="$VB/.installed-$name"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ]; then continue; fi
  echo "[setup_venv] pip install $spec"
  if "$VB/bin/pip" install -q --disable-pip-version-check "$spec" >"$VB/install-$name.log" 2>&1; then
    echo "$spec" > "$stamp"; rm -f "$VB/install-$name.log"
  else
    echo "[setup_venv] FAILED: $spec (see $VB/install-$name.log)" >&2
  fi
done
exit 0
