"""Processes for the bridge tests: `horus bridge` and tests/bridge_peer.py, each in a horus
namespace of its own (and optionally a network namespace), with their JSON lines collected
by a reader thread; network namespaces joined by a veth pair; cleanup of both.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
PEER = str(Path(__file__).resolve().parent / "bridge_peer.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_of(namespace: str) -> dict[str, str]:
    """This process's environment with HORUS_NAMESPACE = namespace."""
    return dict(os.environ, HORUS_NAMESPACE=namespace)


def new_ns(tag: str) -> str:
    return f"pytest_br{tag}_{os.getpid()}_{secrets.token_hex(3)}"


class Proc:
    """A child process whose stdout JSON lines are collected in `lines` (stderr in `err`)."""

    def __init__(self, argv: list[str], namespace: str, netns: Optional[str] = None) -> None:
        env = dict(os.environ, HORUS_NAMESPACE=namespace, PYTHONUNBUFFERED="1")
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.namespace = namespace
        self.p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  cwd=ROOT)
        self.lines: list[dict[str, Any]] = []
        self.err: list[str] = []
        self._cv = threading.Condition()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            try:
                d = json.loads(line)
            except ValueError:
                d = {"event": "text", "text": line.rstrip("\n")}
            with self._cv:
                self.lines.append(d)
                self._cv.notify_all()

    def _read_err(self) -> None:
        assert self.p.stderr is not None
        for line in self.p.stderr:
            self.err.append(line.rstrip("\n"))

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for d in self.lines:
                    if pred(d):
                        return d
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None and not self._more_coming():
                    raise AssertionError(f"timed out waiting in {' '.join(map(str, self.p.args))[:300]}; last "
                                         f"line {repr(self.lines[-1:])[:1500]}; stderr {self.err[-10:]!r}"[:4000])
                self._cv.wait(min(left, 0.2))

    def _more_coming(self) -> bool:
        return self.p.stdout is not None and not self.p.stdout.closed

    def events(self, name: str) -> list[dict[str, Any]]:
        with self._cv:
            return [d for d in self.lines if d.get("event") == name]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.p.args!r} did not stop within {timeout} s of signal {sig}") from None

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def bridge(namespace: str, *args: str, netns: Optional[str] = None) -> Proc:
    """`horus bridge --json --no-scouting --interval 0.3 ARGS` in `namespace`; returns once it
    printed its "started" line."""
    p = Proc([sys.executable, "-m", "horus", "bridge", "--json", "--no-scouting", "--interval", "0.3", *args],
             namespace, netns)
    p.wait_for(lambda d: d.get("event") == "started", 30)
    return p


def peer(namespace: str, *args: str, netns: Optional[str] = None) -> Proc:
    p = Proc([sys.executable, PEER, *args], namespace, netns)
    p.wait_for(lambda d: d.get("event") == "ready", 30)
    return p


def latest_stats(p: Proc) -> dict[str, Any]:
    ev = p.events("stats") + p.events("stopped")
    return ev[-1] if ev else {}


def topic_stats(stats: dict[str, Any], topic: str, direction: str) -> dict[str, Any]:
    for t in stats.get("topics", []):
        if t["topic"] == topic and t["direction"] == direction:
            return dict(t)
    raise AssertionError(f"no {direction} stats for {topic!r} in {stats!r}")


def wait_stats(p: Proc, pred: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    """The first stats report for which pred holds."""
    return p.wait_for(lambda d: d.get("event") in ("stats", "stopped") and pred(d), timeout)


def clean_namespace(namespace: str) -> None:
    subprocess.run([sys.executable, "-m", "horus", "clean", namespace, "--force"], cwd=ROOT,
                   capture_output=True, timeout=60)


def pool_in_use(namespace: str, netns: Optional[str] = None) -> int:
    """Pool blocks in use in `namespace` after a reclamation pass (a fresh process asks)."""
    code = "import horus, json; horus.reclaim(); print(json.dumps(horus.pool_stats().as_dict()))"
    argv = [sys.executable, "-c", code]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    out = subprocess.run(argv, env=dict(os.environ, HORUS_NAMESPACE=namespace), capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return int(json.loads(out.stdout)["blocks_in_use"])


# -- network namespaces ----------------------------------------------------------------------


class VethPair:
    """Two network namespaces joined by a veth pair: A at 10.<x>.<y>.1, B at .2 (/24)."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 10000}{secrets.token_hex(2)}"
        self.a, self.b = f"hba{tag}", f"hbb{tag}"
        self.dev_a, self.dev_b = f"va{tag}"[:15], f"vb{tag}"[:15]
        x = secrets.randbelow(200) + 20
        y = secrets.randbelow(250) + 1
        self.ip_a, self.ip_b = f"10.{x}.{y}.1", f"10.{x}.{y}.2"
        self.created = False

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)

    def create(self) -> None:
        self._ip("netns", "add", self.a)
        self.created = True
        self._ip("netns", "add", self.b)
        self._ip("link", "add", self.dev_a, "type", "veth", "peer", "name", self.dev_b)
        self._ip("link", "set", self.dev_a, "netns", self.a)
        self._ip("link", "set", self.dev_b, "netns", self.b)
        for ns, dev, ip in ((self.a, self.dev_a, self.ip_a), (self.b, self.dev_b, self.ip_b)):
            self._ip("-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            self._ip("-n", ns, "link", "set", dev, "up")
            self._ip("-n", ns, "link", "set", "lo", "up")

    def link(self, up: bool) -> None:
        self._ip("-n", self.a, "link", "set", self.dev_a, "up" if up else "down")

    def destroy(self) -> None:
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def netns_unavailable() -> Optional[str]:
    """Why network namespaces with a veth pair cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    try:
        v = VethPair()
        try:
            v.create()
        finally:
            v.destroy()
    except FileNotFoundError:
        return "the ip command (iproute2) is not installed"
    except subprocess.CalledProcessError as e:
        return f"cannot create a network namespace with a veth pair: {e.stderr.decode(errors='replace').strip()}"
    return None
