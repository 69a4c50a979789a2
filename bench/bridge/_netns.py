"""The network for the bridge benchmark: two network namespaces joined by a veth pair, or
loopback on this host when namespaces cannot be made (not root, no `ip`, no netns support).

Names carry the benchmark's pid (hbbA<pid>, hbbB<pid>, veth hbv<pid>a/b) so that runs never
collide, and Link.close() deletes what was made (idempotent; bridge_bench calls it from a
finally and from atexit); a janitor shell deletes them if this process is killed with
SIGKILL. remove_stale() deletes the namespaces of earlier runs whose process is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from typing import Optional

__all__ = ["Link", "make_link", "remove_stale", "NS_PREFIX"]

NS_PREFIX = "hbb"
_NS_RE = re.compile(rf"^{NS_PREFIX}[AB](\d+)$")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=check)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Link:
    """Where the two sides run: mode "veth" (ns_a/ns_b set) or "loopback" (both on this host,
    `why` says why namespaces were not used). addr_a is side A's address, ports are the
    plain-Zenoh and the bridge listen ports on side A."""

    mode: str
    addr_a: str
    addr_b: str
    zenoh_port: int
    bridge_port: int
    ns_a: Optional[str] = None
    ns_b: Optional[str] = None
    veth: tuple[str, str] = ("", "")
    why: str = ""
    _closed: bool = field(default=False, repr=False)
    _janitor: Optional[subprocess.Popen[bytes]] = field(default=None, repr=False)

    def exec_prefix(self, side: str) -> list[str]:
        """The argv prefix that runs a command on side "A" or "B"."""
        ns = {"A": self.ns_a, "B": self.ns_b}[side]
        return ["ip", "netns", "exec", ns] if ns else []

    def endpoint(self, port: int) -> str:
        return f"tcp/{self.addr_a}:{port}"

    def wire_bytes(self) -> Optional[int]:
        """Bytes side A's veth has sent so far (A to B), None on loopback (shared with the host)."""
        if self.mode != "veth" or self._closed:
            return None
        import json

        r = _ip("-n", str(self.ns_a), "-s", "-j", "link", "show", "dev", self.veth[0], check=False)
        try:
            return int(json.loads(r.stdout)[0]["stats64"]["tx"]["bytes"])
        except (ValueError, KeyError, IndexError, TypeError):
            return None

    def describe(self) -> str:
        if self.mode == "veth":
            return (f"two network namespaces {self.ns_a} ({self.addr_a}) and {self.ns_b} ({self.addr_b}) "
                    f"joined by a veth pair")
        return f"loopback on one host (no network namespaces: {self.why})"

    def close(self) -> list[str]:
        """Deletes the namespaces and the veth pair; returns what could not be deleted."""
        if self._closed or self.mode != "veth":
            self._closed = True
            return []
        self._closed = True
        left = _delete(self.ns_a, self.ns_b, self.veth)
        if self._janitor is not None:
            self._janitor.kill()
            self._janitor.wait()
        return left


def _delete(ns_a: Optional[str], ns_b: Optional[str], veth: tuple[str, str]) -> list[str]:
    left = []
    for ns in (ns_a, ns_b):
        if ns and _ip("netns", "del", ns, check=False).returncode != 0 and ns in _netns_list():
            left.append(f"netns {ns}")
    for dev in veth:  # gone with its namespace, unless it was never moved into one
        if dev and _ip("link", "show", dev, check=False).returncode == 0:
            _ip("link", "del", dev, check=False)
            if _ip("link", "show", dev, check=False).returncode == 0:
                left.append(f"link {dev}")
    return left


def _netns_list() -> list[str]:
    r = _ip("netns", "list", check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def remove_stale() -> list[str]:
    """Deletes hbbA<pid>/hbbB<pid> namespaces whose benchmark process no longer runs."""
    if shutil.which("ip") is None:
        return []
    removed = []
    for ns in _netns_list():
        m = _NS_RE.match(ns)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            _ip("netns", "del", ns, check=False)
            removed.append(ns)
    return removed


def _loopback(why: str) -> Link:
    return Link("loopback", "127.0.0.1", "127.0.0.1", _free_port(), _free_port(), why=why)


def make_link(use_netns: bool = True) -> Link:
    """Two namespaces joined by a veth pair (10.213.<n>.1/24 in A, .2/24 in B), or loopback."""
    if not use_netns:
        return _loopback("--no-netns was given")
    if shutil.which("ip") is None:
        return _loopback("the `ip` command is not installed")
    if os.geteuid() != 0:
        return _loopback("not running as root")
    pid = os.getpid()
    ns_a, ns_b = f"{NS_PREFIX}A{pid}", f"{NS_PREFIX}B{pid}"
    veth = (f"hbv{pid}a", f"hbv{pid}b")
    net = f"10.213.{pid % 254 + 1}"
    addr_a, addr_b = f"{net}.1", f"{net}.2"
    made_a = made_b = False
    try:
        _ip("netns", "add", ns_a)
        made_a = True
        _ip("netns", "add", ns_b)
        made_b = True
        _ip("link", "add", veth[0], "type", "veth", "peer", "name", veth[1])
        _ip("link", "set", veth[0], "netns", ns_a)
        _ip("link", "set", veth[1], "netns", ns_b)
        for ns, dev, addr in ((ns_a, veth[0], addr_a), (ns_b, veth[1], addr_b)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        err = getattr(e, "stderr", "") or str(e)
        _delete(ns_a if made_a else None, ns_b if made_b else None, veth)
        return _loopback(f"`{' '.join(getattr(e, 'cmd', ['ip']))}` failed: {err.strip()}")
    # Deletes the namespaces when this process dies without closing the link (SIGKILL): it
    # waits for EOF on a pipe only this process holds.
    janitor = subprocess.Popen(["sh", "-c", f"read _; ip netns del {ns_a}; ip netns del {ns_b}"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    return Link("veth", addr_a, addr_b, 7447, 7448, ns_a=ns_a, ns_b=ns_b, veth=veth, _janitor=janitor)
