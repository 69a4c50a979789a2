"""A full /dev/shm is an exception (PoolExhausted naming /dev/shm), never a SIGBUS.

tmpfs is sparse: a mapped page that a full /dev/shm cannot back kills the writer with
SIGBUS. horus reserves a segment's pages when it creates it, so running out of room is
reported where it can be handled. The test runs a child in a private mount namespace
with an 8 MiB /dev/shm (needs root and unshare; skipped otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import horus
    imgs = []
    try:
        for i in range(20):
            img = horus.Image(height=480, width=640, encoding="rgb8")
            img.fill([i, i, i])  # touches every page
            imgs.append(img)
        print("no error")
    except horus.PoolExhausted as e:
        print("exhausted after", len(imgs), "|", e)
    imgs.clear()
    img = horus.Image(height=480, width=640, encoding="rgb8")  # the pool works again
    img.fill([1, 2, 3])
    print("recovered", img.pixel(0, 0))
    """
)


def _can_unshare() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1M tmpfs /dev/shm"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -m to mount a small /dev/shm")
def test_full_dev_shm_raises_pool_exhausted_instead_of_sigbus():
    script = f"mount -t tmpfs -o size=8M tmpfs /dev/shm && exec {sys.executable} -c '{CHILD}'"
    env = dict(os.environ, HORUS_NAMESPACE="shmfull", HORUS_POOL_MAX_BYTES="64M")
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr[-2000:])  # -7 would be SIGBUS
    assert "exhausted after" in out.stdout, out.stdout
    assert "/dev/shm itself is full" in out.stdout
    assert "recovered [1, 2, 3]" in out.stdout
