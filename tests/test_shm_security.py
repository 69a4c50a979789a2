"""Security defaults: shared-memory objects are private (0600) unless
HORUS_SHM_MODE says otherwise, and names from users are validated."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conftest import new_namespace


CHILD = """
import os, stat, horus
from pathlib import Path
img = horus.Image(4, 4, "rgb8")
t = horus.Topic(horus.Image, "sec.cam")
t.send(img)
ns = horus.namespace()
for p in sorted(Path("/dev/shm").glob(f"horus.{ns}.*")):
    print(p.name, oct(stat.S_IMODE(p.stat().st_mode)))
"""


def _modes(run_child, env=None):
    out = run_child(CHILD, namespace=new_namespace("sec"), env=env)
    assert out.returncode == 0, out.stderr
    modes = dict(line.split() for line in out.stdout.splitlines())
    kinds = {name.split(".")[2].rstrip("0123456789") for name in modes}
    assert {"pool", "seg", "topic"} <= kinds, modes  # control block, a segment and a topic
    return modes


def test_default_mode_is_0600_even_with_permissive_umask(run_child):
    import os

    old = os.umask(0)
    try:
        modes = _modes(run_child, env={"HORUS_SHM_MODE": ""})
    finally:
        os.umask(old)
    assert set(modes.values()) == {"0o600"}, modes


def test_shm_mode_0660_for_a_shared_group(run_child):
    modes = _modes(run_child, env={"HORUS_SHM_MODE": "0660"})
    assert set(modes.values()) == {"0o660"}, modes


@pytest.mark.parametrize("mode", ["rw", "0999", "-1", "01000", "0660x"])
def test_invalid_shm_mode_is_rejected(run_child, mode):
    out = run_child("import horus; horus.Image(2, 2, 'rgb8')", namespace=new_namespace("sec"),
                    env={"HORUS_SHM_MODE": mode})
    assert out.returncode != 0
    assert "HORUS_SHM_MODE" in out.stderr


# ("." and ".." are allowed: a topic's object is "/horus.<ns>.topic.<name>", one
# path component whatever the dots; "/" is what would escape, and it is refused.)
@pytest.mark.parametrize("name", ["", "a/b", "../pool", "x" * 101, "cam rgb", "cam\x00", "é",
                                  "/horus.x.pool", "a\\b", "seg0\n"])
def test_invalid_topic_names_are_rejected(name):
    import horus

    with pytest.raises((ValueError, horus.HorusError)):
        horus.Topic(horus.Image, name)


@pytest.mark.parametrize("ns", ["", "a/b", "..", "x.y", "n" * 49, "ns space", "../../etc"])
def test_invalid_namespaces_are_rejected(run_child, ns):
    out = run_child("import horus; horus.Image(2, 2, 'rgb8')", namespace="placeholder",
                    env={"HORUS_NAMESPACE": ns} if ns else {"HORUS_NAMESPACE": "a/b"})
    assert out.returncode != 0
    assert "HORUS_NAMESPACE" in out.stderr
    assert not list(Path("/dev/shm").glob("horus.placeholder.*"))
