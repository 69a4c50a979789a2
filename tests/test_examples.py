"""The README's demo programs run and show what they claim (zero copy, nothing left behind)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str, timeout: float = 180) -> str:
    ns = f"ex_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, HORUS_NAMESPACE=ns)
    out = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]
    return out.stdout


def test_pipeline_demo_moves_frames_between_three_processes_without_copies():
    text = _run("pipeline.py", "--seconds", "1.5")
    assert "camera -> edge_detector" in text and "edge_detector -> model" in text
    # every hop delivered frames
    for hop in ("camera -> edge_detector", "camera -> model", "edge_detector -> model", "detections -> model"):
        line = next(line for line in text.splitlines() if line.startswith(hop))
        assert int(line.split()[3]) > 0, line  # "<from> -> <to> <messages> <dropped> ..." 
    assert text.count("one block, no copy") == 3, text
    commands = next(line for line in text.splitlines() if line.startswith("model -> cmd_vel"))
    assert int(commands.split()[3]) > 0, commands  # typed messages flowed: detections in, CmdVel out
    assert "MISMATCH" not in text
    assert "nothing left of" in text


def test_memory_types_demo_shows_one_buffer_per_message_and_returns_every_block():
    text = _run("demo.py")
    assert "one buffer: yes" in text
    assert "one buffer: no" not in text
    assert "zero-copy everywhere: yes;  every block back in the pool: yes" in text
