"""Shared pytest setup for the horus Python tests.

* Every test session gets its own shared-memory namespace (HORUS_NAMESPACE), set
  here at import time, i.e. before any test module imports horus, so parallel
  runs never see each other's pool and nothing collides with a user's pool.
* ``no_leak``: a fixture asserting that a test leaves pool_stats().blocks_in_use
  where it found it (after a garbage collection).
* ``run_child``: runs a Python snippet in a fresh interpreter (own or shared
  namespace) — used by the crash-safety, exhaustion and cleanup tests.

That the pool unlinks a namespace from /dev/shm when its last process exits is
checked in tests/test_pool.py with a child process and a namespace of its own
(this pytest process is itself attached to the session namespace until it exits).
"""

from __future__ import annotations

import gc
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SESSION_NAMESPACE = f"pytest_{os.getpid()}_{secrets.token_hex(4)}"
os.environ["HORUS_NAMESPACE"] = SESSION_NAMESPACE


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: multi-process soak/kill runs (tools/soak.py, tools/kill_harness.py)")
    # Set again in case a plugin or a conftest above this one changed it.
    os.environ["HORUS_NAMESPACE"] = SESSION_NAMESPACE
    assert "horus._core" not in sys.modules or __import__("horus").namespace() == SESSION_NAMESPACE, (
        "horus was imported before tests/conftest.py could set HORUS_NAMESPACE"
    )


def pytest_report_header(config):
    return f"horus namespace: {SESSION_NAMESPACE}"


def pytest_sessionfinish(session, exitstatus):
    """Report (not fail on) blocks still held when the session ends: messages held by
    module globals would show up here, and a clean run holds none."""
    if "horus._core" not in sys.modules:
        return
    import horus

    gc.collect()
    held = horus.pool_stats().blocks_in_use
    if held:
        sys.stderr.write(f"\n[horus] note: {held} pool block(s) still in use at session end\n")


def new_namespace(tag: str = "child") -> str:
    return f"pytest_{tag}_{os.getpid()}_{secrets.token_hex(4)}"


def shm_objects(namespace: str) -> list[str]:
    prefix = f"horus.{namespace}."
    return sorted(p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(prefix))


def blocks_in_use(full_gc: bool = True) -> int:
    import horus

    gc.collect() if full_gc else gc.collect(1)
    return horus.pool_stats().blocks_in_use


@pytest.fixture
def no_leak():
    """Fails the test if it leaves more pool blocks in use than it found.

    A full gc.collect() costs ~0.1 s once torch and jax are loaded, so the cheap
    young-generation collection runs first and the full one only when the counts
    differ. Garbage left by an earlier test may be collected meanwhile, so the
    check is `after <= before` (a leak can only make `after` larger).
    """
    before = blocks_in_use(full_gc=False)
    yield
    after = blocks_in_use(full_gc=False)
    if after != before:
        after = blocks_in_use(full_gc=True)
    assert after <= before, f"pool blocks in use went from {before} to {after}: a block leaked"


@pytest.fixture
def run_child():
    """run_child(code, namespace=None, env=None, timeout=60) -> CompletedProcess.

    Runs dedented `code` in a fresh interpreter. namespace=None uses a new unique
    namespace; pass SESSION_NAMESPACE to share this session's pool.
    """

    def run(code: str, namespace: str | None = None, env: dict | None = None, timeout: float = 60):
        child_env = dict(os.environ)
        child_env["HORUS_NAMESPACE"] = namespace or new_namespace()
        if env:
            child_env.update(env)
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
