"""Child: a child process for tests whose stdout lines are read by a thread, so waits time out.

Shared by the multi-process tests (tests/test_topic_multiprocess.py, tests/test_spec_pipelines.py).
The child joins this test session's HORUS_NAMESPACE unless `env` says otherwise.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time

from conftest import SESSION_NAMESPACE


class Child:
    """A child process whose stdout lines are collected by a thread (so waits can time out)."""

    def __init__(self, argv: list[str], env: dict | None = None, stdin: bool = False):
        child_env = dict(os.environ, HORUS_NAMESPACE=SESSION_NAMESPACE, PYTHONUNBUFFERED="1")
        if env:
            child_env.update(env)
        self.proc = subprocess.Popen(
            argv,
            env=child_env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.all_lines: list[str] = []
        self._err: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=lambda: self._err.extend(self.proc.stderr), daemon=True).start()

    @classmethod
    def python(cls, code: str, *args: str, **kw) -> "Child":
        return cls([sys.executable, "-c", textwrap.dedent(code), *args], **kw)

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        """The next stdout line starting with `prefix` (other lines are kept in all_lines)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"child did not print {prefix!r} within {timeout} s; "
                                     f"stdout so far {self.all_lines[-5:]}, stderr {self.stderr[-2000:]}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=5)
                raise AssertionError(f"child exited (rc={self.proc.returncode}) before printing {prefix!r}; "
                                     f"stdout {self.all_lines[-5:]}, stderr {self.stderr[-2000:]}")
            self.all_lines.append(line)
            if line.startswith(prefix):
                return line

    def send_line(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 20.0) -> int:
        rc = self.proc.wait(timeout=timeout)
        time.sleep(0.05)  # let the pump threads drain
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
