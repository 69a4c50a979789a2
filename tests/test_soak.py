"""CI variant of tools/soak.py: 1 publisher x 8 subscriber processes, 1 kHz,
640x480x3 images, 10 s (the 10-minute run is by hand: tools/soak.py --seconds 600).

Marked `soak` (registered in tests/conftest.py); it runs in `make test`
(deselect with -m "not soak"). Asserts delivered + dropped == sent for every
subscriber, no corrupted payload, pool usage within its design bound and not
growing, no RSS growth, and nothing left in /dev/shm.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parent.parent / "tools" / "soak.py"


@pytest.mark.soak
def test_soak_ci():
    out = subprocess.run([sys.executable, str(SOAK), "--seconds", "10", "--json"],
                         capture_output=True, text=True, timeout=90)
    assert out.stdout.strip(), out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["accounting_ok"], r["accounting"]
    assert r["bad_payloads"] == 0, r
    assert r["blocks_in_use_max"] <= r["blocks_in_use_bound"], r
    assert r["pool_growth_blocks"] <= 2, r["blocks_samples"]
    assert r["shm_left"] == [], r
    assert r["sent"] > 1000, r  # the publisher really ran (1 kHz target; shared CI cores may be slower)
    assert out.returncode == 0, r
