"""The `horus` command (python -m horus): list and clean shared memory of dead namespaces."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid


def _horus(*args: str, env: dict | None = None) -> str:
    out = subprocess.run([sys.executable, "-m", "horus", *args], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _objects(ns: str) -> list[str]:
    return [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]


def test_clean_removes_a_namespace_whose_processes_were_killed_and_keeps_live_ones():
    dead = f"cli_dead_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, HORUS_NAMESPACE=dead)
    code = ("import os, signal, horus\n"
            "img = horus.Image(height=48, width=64, encoding='rgb8')\n"
            "t = horus.Topic(horus.Image, 'cam'); t.send(img)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=60)
    assert proc.returncode == -9
    assert len(_objects(dead)) >= 3  # pool, a segment, the topic: nobody is left to unlink them
    listing = _horus("list")
    assert dead in listing and "0 live processes" in listing.split(dead, 1)[1].splitlines()[0]
    live = os.environ["HORUS_NAMESPACE"]  # this test session's namespace is in use
    import horus  # noqa: F401  (attaches this process, so the session namespace has a live process)
    horus.pool_stats()
    dry = _horus("clean", "--dry-run")
    assert f"would remove {dead}" in dry and _objects(dead)
    out = _horus("clean", dead)
    assert f"removed {dead}" in out
    assert _objects(dead) == []
    out = _horus("clean", live)
    assert f"kept    {live}" in out and _objects(live)


def test_clean_rejects_an_invalid_namespace_name():
    out = subprocess.run([sys.executable, "-m", "horus", "clean", "../etc"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and "HORUS_NAMESPACE='../etc' is invalid" in out.stderr


def test_stats_prints_the_pool_of_this_namespace():
    assert "PoolStats(namespace=" in _horus("stats")
