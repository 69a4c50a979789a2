"""Child processes of the bridge benchmark: a Worker is one `_worker.py` role, started (in a
network namespace or not) with its own environment; commands go to its stdin as JSON lines,
its JSON-line events come back through a reader thread, its stderr goes to a log file.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Optional

__all__ = ["Worker", "WorkerError", "child_env"]

WORKER = str(Path(__file__).resolve().parent / "_worker.py")


class WorkerError(RuntimeError):
    """A worker that died, answered with an error, or did not answer in time."""


class Worker:
    """One worker process. `expect(event)` waits for its next event of that name."""

    def __init__(self, name: str, prefix: list[str], python: str, args: list[str], env: dict[str, str],
                 log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen([*prefix, python, WORKER, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1, env=env,
                                     start_new_session=True)  # Ctrl-C reaches the benchmark only
        self._events: queue.Queue[Optional[dict[str, Any]]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name=f"{name} stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "text", "text": line.rstrip("\n")}
            self._events.put(ev)
        self._events.put(None)

    def log_tail(self, lines: int = 15) -> str:
        try:
            self._log.flush()
            text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def send(self, cmd: str, **kv: Any) -> None:
        if self.proc.poll() is not None or self.proc.stdin is None:
            raise WorkerError(f"{self.name} exited (status {self.proc.returncode}); its log ends:\n{self.log_tail()}")
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **kv}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise WorkerError(f"{self.name}: cannot send {cmd!r}: {e}; its log ends:\n{self.log_tail()}") from None

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        """The next event named `event` (other events in between are skipped, errors raise)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise WorkerError(f"{self.name}: no {event!r} within {timeout:.1f} s; its log ends:\n"
                                  f"{self.log_tail()}")
            try:
                ev = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if ev is None:
                self.proc.wait(5)
                raise WorkerError(f"{self.name} exited (status {self.proc.returncode}) while waiting for "
                                  f"{event!r}; its log ends:\n{self.log_tail()}")
            if ev.get("event") == "error":
                raise WorkerError(f"{self.name}: {ev.get('message')}")
            if ev.get("event") == event:
                return ev

    def call(self, cmd: str, event: str, timeout: float, **kv: Any) -> dict[str, Any]:
        self.send(cmd, **kv)
        return self.expect(event, timeout)

    def stop(self, grace: float = 5.0) -> Optional[dict[str, Any]]:
        """Asks the worker to quit (closing its stdin), then terminates and kills it if it does
        not; returns its 'bye' event if it sent one."""
        bye = None
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                bye = self.expect("bye", grace)
            except WorkerError:
                pass
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(grace)
        self._log.close()
        return bye

    @property
    def pid(self) -> int:
        return self.proc.pid


def child_env(horus_namespace: str) -> dict[str, str]:
    """This process's environment (PYTHONPATH included) with the worker's horus namespace."""
    return dict(os.environ, HORUS_NAMESPACE=horus_namespace, PYTHONUNBUFFERED="1")
