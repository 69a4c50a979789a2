"""Shared pytest setup for the horus Python tests.

* Every test session gets its own shared-memory namespace (HORUS_NAMESPACE), set
  here at import time, i.e. before any test module imports horus, so parallel
  runs never see each other's pool and nothing collides with a user's pool.
* ``no_leak``: a fixture asserting that a test leaves pool_stats().blocks_in_use
  where it found it, both counts taken after a full garbage collection.
* At the end of the session (after a full collection) no pool block may still be
  in use: a message kept alive by a module global, a cache or a cycle nobody
  collects fails the run (pytest_sessionfinish).
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

pytest_plugins = ["pytester"]  # tests/test_conftest.py runs sessions of its own

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
    """Fails the session when pool blocks are still in use at its end (after a full
    collection): a message held by a module global, a cache or an uncollected
    cycle. A clean run holds none. (Only here: each test's own leaks are no_leak's.)"""
    if "horus._core" not in sys.modules:
        return
    import horus

    gc.unfreeze()  # see no_leak: whatever it froze may be garbage by now
    gc.collect()
    horus._core._close_log_topic()  # node logs: the open log topic keeps its latest lines, by design
    stats = horus.pool_stats()
    if stats.blocks_in_use:
        sys.stderr.write(
            f"\n[horus] FAILED: {stats.blocks_in_use} pool block(s) ({stats.bytes_in_use} bytes) still in use at "
            f"session end ({stats.local_blocks} held by this process); a module global, cache or uncollected "
            f"cycle keeps a message or topic alive\n"
        )
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def new_namespace(tag: str = "child") -> str:
    return f"pytest_{tag}_{os.getpid()}_{secrets.token_hex(4)}"


def shm_objects(namespace: str) -> list[str]:
    prefix = f"horus.{namespace}."
    return sorted(p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(prefix))


def pool_mappings() -> list[tuple[int, int]]:
    """[start, end) of every mapping of this session's shared memory (pool segments, topics)."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and f"horus.{SESSION_NAMESPACE}." in parts[5]:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                out.append((lo, hi))
    return out


def in_pool(addr: int, nbytes: int) -> bool:
    """True if the `nbytes` at `addr` lie inside one of this session's shared-memory mappings."""
    return any(lo <= addr and addr + nbytes <= hi for lo, hi in pool_mappings())


def blocks_in_use(full_gc: bool = True) -> int:
    import horus

    gc.collect() if full_gc else gc.collect(1)
    return horus.pool_stats().blocks_in_use


@pytest.fixture
def no_leak():
    """Fails the test if it leaves more pool blocks in use than it found.

    Both counts follow a full collection. (The baseline used to follow a
    young-generation collection only: garbage of an earlier test then counted in
    `before` and, collected by the check afterwards, hid a block the test leaked.)

    What survives the baseline's collection is alive, so it is frozen
    (gc.freeze(): moved to the permanent generation) and later full collections
    examine only what was allocated since: ~0.1 s per collection once torch and
    jax are loaded becomes microseconds. Only objects from before the test are
    frozen; one that later becomes part of a garbage cycle stays uncollected (its
    blocks stay counted) until pytest_sessionfinish unfreezes everything. That can
    hide a free from a test, never add a block to its count.
    """
    before = blocks_in_use(full_gc=True)
    gc.freeze()
    yield
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
