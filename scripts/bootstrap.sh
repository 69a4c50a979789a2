#!/usr/bin/env bash
# scripts/bootstrap.sh — idempotent development set-up for horus.
#
#   1. installs the Debian packages the C++ tests / sanitizers / benches need
#      (only the missing ones; apt-get is skipped entirely when all are present),
#   2. creates .venv with python3 if it does not exist,
#   3. pip-installs requirements-dev.txt into .venv, guarded by a stamp file
#      .venv/.horus-deps-<sha256 of requirements-dev.txt>, so a second run is instant.
#
# Environment:
#   PYTHON=python3        interpreter used to create the venv
#   VENV=.venv            venv location (relative to the repo root)
#   HORUS_SKIP_APT=1      do not touch system packages (e.g. non-Debian dev boxes)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
REQ="requirements-dev.txt"
APT_PKGS=(libgtest-dev libbenchmark-dev clang-14 libclang-rt-14-dev valgrind pkgconf iproute2)

log()  { printf '[bootstrap] %s\n' "$*" >&2; }
die()  { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'printf "[bootstrap] ERROR: command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

# ---------------------------------------------------------------- 1. apt
if [ "${HORUS_SKIP_APT:-0}" != "1" ]; then
  missing=()
  for p in "${APT_PKGS[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get; install them or set HORUS_SKIP_APT=1"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
      SUDO="sudo"
    fi
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Wait (up to 10 min) for another apt/dpkg process holding the lock instead of failing.
    APT_OPTS=(-o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q || die "apt-get update failed"
    $SUDO apt-get install "${APT_OPTS[@]}" "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  else
    log "system packages present"
  fi
fi

# ---------------------------------------------------------------- 2. venv
if [ ! -x "$VENV/bin/python" ]; then
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$PYTHON is older than 3.10"
  log "creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV" || die "could not create $VENV (is python3-venv installed?)"
fi
PY="$VENV/bin/python"
"$PY" -c 'import sys' || die "$VENV is broken; delete it and re-run"

# ---------------------------------------------------------------- 3. pip deps
[ -f "$REQ" ] || die "$REQ not found"
HASH="$(sha256sum "$REQ" | cut -c1-16)"
STAMP="$VENV/.horus-deps-$HASH"
if [ -f "$STAMP" ]; then
  log "python deps up to date ($STAMP)"
else
  log "installing python deps from $REQ into $VENV"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  "$PY" -m pip install -q --upgrade pip || die "pip upgrade failed"
  # Everything in $REQ is pinned (torch==2.13.0 in particular), so pip never
  # resolves an unpinned torch (which would pull multi-GB CUDA wheels).
  "$PY" -m pip install -q -r "$REQ" || die "pip install -r $REQ failed"
  "$PY" - <<'PYEOF' || die "post-install import check failed"
import importlib
for m in ("nanobind", "scikit_build_core", "numpy", "pytest", "hypothesis", "matplotlib", "torch", "jax"):
    importlib.import_module(m)
PYEOF
  rm -f "$VENV"/.horus-deps-*
  touch "$STAMP"
  log "python deps installed"
fi
log "ok"
