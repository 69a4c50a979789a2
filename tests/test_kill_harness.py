"""CI run of tools/kill_harness.py: 30 SIGKILLs of publishers/subscribers/nodes.

Asserts what docs/reliability.md promises: no corrupted payload ever reaches a
survivor, nothing of the namespace is left in /dev/shm once the last process
exits, and after reclamation + closing the topics the pool holds no block at
all -- publishers killed inside send() included (reclamation reconciles ring
counts with the topic slots).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "tools" / "kill_harness.py"


@pytest.mark.soak
def test_kill_harness_ci():
    out = subprocess.run(
        [sys.executable, str(HARNESS), "--kills", "30", "--small", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.stdout.strip(), out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["kills"] == 30
    assert r["corrupted"] == 0, r
    assert r["unexpected_exits"] == 0, r
    assert r["shm_left"] == [], r
    assert "error" not in r["final"], r
    assert r["verified"] > 0 and r["sent"] > 0, r
    assert r["blocks_leaked"] == 0, r
    assert r["seconds"] < 30, r
    assert out.returncode == 0, r
