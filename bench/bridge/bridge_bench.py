#!/usr/bin/env python3
"""Bridge benchmark: latency and throughput through horus.bridge against plain Zenoh.

The issue's goal: the bridge adds <= 20 % to Zenoh's own latency and reaches >= 80 % of its
throughput, for payloads from 64 B to 1920x1080x3, both paths measured in the same run over
the same link (two network namespaces joined by a veth pair; loopback on one host when
namespaces cannot be made, which the output says).

    plain Zenoh   zpub (ns A) --tcp--> zsub (ns B): put(bytes) / callback payload.to_bytes()
    bridge        hpub --shm--> Bridge(pub) (ns A) --tcp--> Bridge(sub) --shm--> hsub (ns B)

Every process is a role of _worker.py (see its docstring for exactly what each one does);
the two Zenoh paths use the bridge's own Zenoh config. The paths alternate per size and
round (zenoh, bridge, zenoh, bridge, ...); medians over rounds are reported.

    # as root (network namespaces), from the repository root:
    PYTHONPATH=/work/devpy .venv/bin/python bench/bridge/bridge_bench.py --out bench/results/DATE-bridge
    ... bridge_bench.py --quick          # CI: 3 sizes, few messages, < 60 s, exit 1 if a path delivered nothing
    ... bridge_bench.py --sizes 64B,1920x1080x3 --rounds 3 --duration 2

Exit status: 0 done, 1 a path delivered nothing (or a worker failed), 2 something was left
behind (shared memory, namespaces), 130 interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _netns import Link, make_link, remove_stale  # noqa: E402
from _procs import Worker, WorkerError, child_env  # noqa: E402
from _report import (  # noqa: E402
    git_revision, machine, now_utc, percentile, render_markdown, summarize, write_outputs)

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Size:
    label: str
    nbytes: int
    kind: str  # the horus message: "Tensor" (1-D uint8) or "Image" (rgb8)
    shape: tuple[int, ...]
    rate: float  # latency runs: messages per second
    count: int  # latency runs: messages per round (full mode)
    quick_count: int

    @property
    def message(self) -> str:
        if self.kind == "Image":
            return f"Image {self.shape[1]}x{self.shape[0]} rgb8"
        return f"Tensor uint8 [{self.nbytes}]"

    @property
    def topic(self) -> str:
        return f"bb_{self.label}"


SIZES = [
    Size("64B", 64, "Tensor", (64,), 200, 500, 60),
    Size("4KiB", 4096, "Tensor", (4096,), 200, 500, 60),
    Size("64KiB", 65536, "Tensor", (65536,), 200, 500, 60),
    Size("640x480x3", 921600, "Image", (480, 640, 3), 100, 300, 40),
    Size("1MiB", 1 << 20, "Tensor", (1 << 20,), 100, 300, 40),
    Size("1920x1080x3", 6220800, "Image", (1080, 1920, 3), 25, 150, 20),
]
QUICK_SIZES = ("64B", "64KiB", "1920x1080x3")
PATHS = ("zenoh", "bridge")

METHOD = """\
**Set-up.** Side A and side B: {link}. Six processes run for the whole benchmark: on A the
plain-Zenoh publisher, the horus publisher and `horus.bridge.Bridge(pub=[...],
listen=[...], scouting=False)`; on B the plain-Zenoh subscriber, `Bridge(sub=[...],
connect=[...], scouting=False)` and the horus subscriber; A and B have a HORUS_NAMESPACE
each. The plain-Zenoh sessions are opened with the bridge's own Zenoh config
(`Bridge._zenoh_config`: peer mode, multicast scouting off, the same connect/retry
settings) and declare their publisher / subscriber with Zenoh's defaults, as the bridge
does (no express, congestion control DROP). Zenoh shared memory: {shm}.

**What is sent.** Both publishers start from pre-built random bytes of the size. Plain
Zenoh: put() of those bytes, the attachment holding (trial, seq, send time). horus: per
message the bytes are copied into a fresh pool message (`from_numpy`): a 1-D uint8 Tensor
for 64 B / 4 KiB / 64 KiB / 1 MiB, an rgb8 Image for 640x480x3 and 1920x1080x3; its first
8 bytes get (trial, seq) and timestamp_ns = time.time_ns() is set just before send() (in
latency runs the copy is made before the pacing wait, so it is not timed). Topic
capacities are horus' defaults (64 slots for Tensor topics, 8 for Image topics).
**Received** means: plain Zenoh, the subscriber callback has called
`sample.payload.to_bytes()` (a Python user needs the bytes); horus, `recv()` returned and
`to_numpy()` (zero-copy) gave the array.

**Latency.** One-way = receive time - send time, both CLOCK_REALTIME of this host (the
namespaces share the clock). The publisher sends N messages at a fixed rate ({rates});
per round the median and the p99 (nearest rank) over the N; the tables show the median
over rounds of each. "bridge↔bridge" is the receiving bridge's own transit figure
(sending bridge's put → local publish) over the same messages. The breakdown splits the
bridge path's p50: horus publisher → the sending bridge starts encoding, and encode()
itself (wrappers around horus.bridge._wire.encode in the bench's bridge process); Zenoh
(the sending bridge's send stamp, taken at the end of encode() just before its put → the
receiving bridge's callback reads the attachment: a wrapper around _wire.read_header);
decode + local publish (the receiving bridge's transit figure minus the Zenoh part; "of
which decode()" by a wrapper); publish → horus subscriber (end-to-end minus the receiving
bridge's latency figure). The last two are differences of medians: approximate, and the
parts need not add up exactly.

**Throughput.** From a start time, for {warm} s of ramp-up, a {duration} s window and
0.1 s more, the publisher sends back to back. The Zenoh publisher paces itself: its put()
does the transport's work (Zenoh drops puts when its queue is full). A horus send() is
O(1) and never waits for the bridge, so a free-running horus publisher would spend a whole
core offering far more than any link carries and starve the bridge's processes on a small
machine; it is capped at {offer} (an average; it sleeps up to 1 ms when ahead). The
bridge's subscriber loses the oldest messages when it falls a ring behind and Zenoh drops
in its queues: both are counted ("dropped", "lost" in the JSON). The receiver counts the
messages and bytes it received inside the window; msg/s and MB/s (10^6 B) = those counts
/ {duration} s. "offered" is the publisher's own send rate; "latency under load" the median
one-way latency of the messages received in the window (queueing shows there); "veth
MB/s" what A's veth sent during the window (its byte counter read at both ends).

**Order.** Per size, after a warm-up of each path, {rounds} round(s) of [Zenoh latency,
bridge latency, Zenoh throughput, bridge throughput]; after each bridge throughput run the
benchmark waits until the bridges have forwarded what they still held. Ratios are bridge /
Zenoh of the medians over rounds; the goals: latency p50 ratio <= 1.20, throughput msg/s
ratio >= 0.80.
"""


def _ms(ns: Optional[float]) -> Optional[float]:
    return None if ns is None else ns / 1e6


class Bench:
    """One benchmark run: the link, the six workers, the trials, the cleanup."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pid = os.getpid()
        self.sizes = [s for s in SIZES if s.label in args.sizes]
        self.rounds: int = args.rounds
        self.duration: float = args.duration
        self.warm: float = args.warm
        self.namespaces = {"A": f"bbA{self.pid}", "B": f"bbB{self.pid}", "Z": f"bbZ{self.pid}"}
        self.key_prefix = f"bench/{self.pid}"
        self.log_dir = Path(tempfile.mkdtemp(prefix=f"bridge_bench_{self.pid}_"))
        self.link: Optional[Link] = None
        self.w: dict[str, Worker] = {}
        self.trials: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.versions: dict[str, Any] = {}
        self.final_stats: dict[str, Any] = {}
        self.cleanup_report: dict[str, Any] = {}
        self._trial = 0
        self._cleaned = False

    # -- set-up -------------------------------------------------------------------------------

    def _remove_stale_shm(self) -> list[str]:
        """Shared memory of earlier runs' horus namespaces (bbA/bbB/bbZ<pid>) whose run is gone."""
        names = {m.group(1) for p in glob.glob("/dev/shm/horus.bb*")
                 if (m := re.match(r"horus\.(bb[ABZ](\d+))\.", os.path.basename(p))) and
                 not os.path.exists(f"/proc/{m.group(2)}")}
        for ns in sorted(names):
            subprocess.run([self.args.python, "-m", "horus", "clean", ns], env=child_env(ns), capture_output=True,
                           text=True, timeout=60, cwd=ROOT)
        return sorted(names)

    def setup(self) -> None:
        stale = remove_stale()
        if stale:
            self.log(f"removed network namespaces of earlier runs that are gone: {', '.join(stale)}")
        stale = self._remove_stale_shm()
        if stale:
            self.log(f"cleaned the shared memory of earlier runs that are gone: {', '.join(stale)}")
        self.link = make_link(not self.args.no_netns)
        if self.link.mode != "veth":
            self.log(f"NOTE: {self.link.describe()}")
        link = self.link
        zep, bep = link.endpoint(link.zenoh_port), link.endpoint(link.bridge_port)
        specs = json.dumps([{"name": s.topic, "kind": s.kind, "shape": list(s.shape)} for s in self.sizes])
        topics = [s.topic for s in self.sizes]
        shm = ["--zenoh-shm", self.args.zenoh_shm]
        plan = [("hsub", "B", "B", ["hsub", "--topics", specs]),
                ("hpub", "A", "A", ["hpub", "--topics", specs]),
                ("bridgeA", "A", "A", ["bridge", *sum((["--pub", t] for t in topics), []), "--listen", bep, *shm]),
                ("bridgeB", "B", "B", ["bridge", *sum((["--sub", t] for t in topics), []), "--connect", bep, *shm]),
                ("zpub", "A", "Z", ["zpub", "--listen", zep, *shm]),
                ("zsub", "B", "Z", ["zsub", "--connect", zep, "--key-prefix", self.key_prefix, *shm])]
        for name, side, ns, argv in plan:
            self.w[name] = Worker(name, link.exec_prefix(side), self.args.python, argv,
                                  child_env(self.namespaces[ns]), self.log_dir)
        for name in self.w:
            ev = self.w[name].expect("ready", 90)
            self.versions = self.versions or ev.get("versions", {})
            if "zenoh_shm" in ev and ev["zenoh_shm"] != (self.args.zenoh_shm == "on"):
                raise WorkerError(f"{name}: Zenoh shared memory is {ev['zenoh_shm']}, not {self.args.zenoh_shm}")
        self.versions["git"] = git_revision(ROOT)
        self.log(f"workers ready ({', '.join(f'{n} {w.pid}' for n, w in self.w.items())}); link: {link.describe()}")

    def log(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    # -- trials -------------------------------------------------------------------------------

    def _ends(self, path: str) -> tuple[Worker, Worker]:
        return (self.w["zpub"], self.w["zsub"]) if path == "zenoh" else (self.w["hpub"], self.w["hsub"])

    def _target(self, path: str, s: Size) -> dict[str, Any]:
        if path == "zenoh":
            return {"key": f"{self.key_prefix}/{s.label}", "nbytes": s.nbytes}
        return {"topic": s.topic}

    def _next_trial(self) -> int:
        self._trial += 1
        return self._trial

    def _bridge_stats(self, s: Size) -> dict[str, dict[str, Any]]:
        """{"out": bridge A's stats of the size's topic, "in": bridge B's, "probe_out"/"probe_in":
        the bridges' hop probes}."""
        out: dict[str, dict[str, Any]] = {}
        for name, direction in (("bridgeA", "out"), ("bridgeB", "in")):
            ev = self.w[name].call("stats", "stats", 20)
            out[direction] = next((t for t in ev["stats"]["topics"]
                                   if t["topic"] == s.topic and t["direction"] == direction), {})
            out[f"probe_{direction}"] = ev.get("probe", {})
        return out

    @staticmethod
    def _hops(e2e_p50: Optional[float], after: dict[str, dict[str, Any]]) -> dict[str, Optional[float]]:
        """The bridge path's p50 latency in five parts (ms): three measured by the bridges'
        probes, two differences of medians (approximate; the parts need not add up exactly)."""
        lat, transit = after["in"].get("latency_ms_p50"), after["in"].get("transit_ms_p50")

        def probe(side: str, what: str) -> Optional[float]:
            return after[f"probe_{side}"].get(what, {}).get("p50_ms")

        def sub(a: Optional[float], b: Optional[float]) -> Optional[float]:
            return None if a is None or b is None else a - b

        return {"hop_to_bridge_ms": probe("out", "to_bridge"), "hop_encode_ms": probe("out", "encode"),
                "hop_zenoh_ms": probe("in", "zenoh"), "hop_decode_publish_ms": sub(transit, probe("in", "zenoh")),
                "hop_to_sub_ms": sub(e2e_p50, lat), "decode_ms": probe("in", "decode")}

    def _paced(self, path: str, s: Size, count: int, rate: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """`count` messages at `rate`/s on `path`: (the publisher's "sent", the subscriber's "result")."""
        pub, sub = self._ends(path)
        trial = self._next_trial()
        span = count / rate
        deadline = time.time_ns() + int((1.5 * span + 3.0) * 1e9)
        sub.call("arm", "armed", 30, trial=trial, kind="latency", count=count, deadline_ns=deadline,
                 **self._target(path, s))
        sent = pub.call("send", "sent", 3 * span + 60, trial=trial, mode="rate", rate=rate, count=count,
                        **self._target(path, s))
        res = sub.expect("result", max(0.0, (deadline - time.time_ns()) / 1e9) + 30)
        return sent, res

    def warm_up(self, path: str, s: Size) -> None:
        """Sends until the path delivers (Zenoh routes, the bridges' topics exist): 10 at 20/s,
        at most 5 times."""
        for attempt in range(1, 6):
            _, res = self._paced(path, s, 10, 20.0)
            if res["received"] >= 3:
                return
            self.log(f"  warm-up {s.label} {path}: {res['received']}/10 arrived (attempt {attempt}), again")
        raise WorkerError(f"the {path} path delivers nothing for {s.label} (5 warm-up attempts of 10 messages)")

    def latency(self, path: str, s: Size, rnd: int) -> None:
        count = self.args.count or (s.quick_count if self.args.quick else s.count)
        if path == "bridge":
            for name in ("bridgeA", "bridgeB"):
                self.w[name].call("reset", "ok", 20)
            before = self._bridge_stats(s)
        sent, res = self._paced(path, s, count, s.rate)
        lat = [x / 1e6 for x in res["latencies_ns"]]
        rec: dict[str, Any] = {
            "size": s.label, "round": rnd, "path": path, "kind": "latency", "rate": s.rate, "sent": sent["sent"],
            "delivered": res["received"], "p50_ms": statistics.median(lat) if lat else None,
            "p99_ms": percentile(lat, 99), "min_ms": min(lat, default=None), "max_ms": max(lat, default=None),
            "mean_ms": statistics.fmean(lat) if lat else None}
        if path == "bridge":
            after = self._bridge_stats(s)
            rec["transit_p50_ms"] = after["in"].get("transit_ms_p50")
            rec["transit_p99_ms"] = after["in"].get("transit_ms_p99")
            rec.update(self._hops(rec["p50_ms"], after))
            rec["bridge"] = self._bridge_delta(before, after)
            rec["sub_dropped"] = res.get("dropped", 0)
        self.trials.append(rec)
        self.log(f"  {s.label:>11} r{rnd} {path:>6} latency    p50 {_show(rec['p50_ms'])} ms  p99 "
                 f"{_show(rec['p99_ms'])} ms  ({res['received']}/{sent['sent']})"
                 + (f"  bridge↔bridge p50 {_show(rec['transit_p50_ms'])} ms" if path == "bridge" else ""))

    @staticmethod
    def _bridge_delta(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, int]:
        d = {}
        for direction, fields in (("out", ("messages", "dropped", "unmatched", "errors")),
                                  ("in", ("messages", "lost", "type_errors", "errors"))):
            for f in fields:
                d[f"{direction}_{f}"] = int(after[direction].get(f, 0)) - int(before[direction].get(f, 0))
        return d

    def throughput(self, path: str, s: Size, rnd: int) -> None:
        pub, sub = self._ends(path)
        trial = self._next_trial()
        before = self._bridge_stats(s) if path == "bridge" else None
        start = time.time_ns() + int(0.4e9)
        w0 = start + int(self.warm * 1e9)
        w1 = w0 + int(self.duration * 1e9)
        until = w1 + int(0.1e9)
        deadline = until + int(3e9)
        sub.call("arm", "armed", 30, trial=trial, kind="throughput", window_ns=[w0, w1], deadline_ns=deadline,
                 **self._target(path, s))
        cap = None
        if path == "bridge" and self.args.offer:
            zr = [t["msgs_per_s"] for t in self.trials if t["size"] == s.label and t["round"] == rnd
                  and t["kind"] == "throughput" and t["path"] == "zenoh"]
            cap = self.args.offer * zr[-1] if zr and zr[-1] else None
        pub.send("send", trial=trial, mode="flat", start_at_ns=start, until_ns=until, max_rate=cap,
                 **self._target(path, s))
        wire = self._wire_rate(w0, w1)
        sent = pub.expect("sent", (until - time.time_ns()) / 1e9 + 60)
        res = sub.expect("result", max(0.0, (deadline - time.time_ns()) / 1e9) + 30)
        if sent.get("first_ns", 0) > w0:
            self.problems.append(f"{s.label} round {rnd} {path} throughput: the publisher started "
                                 f"{(sent['first_ns'] - start) / 1e6:.0f} ms late, after the window opened")
        rec: dict[str, Any] = {
            "size": s.label, "round": rnd, "path": path, "kind": "throughput", "window_s": self.duration,
            "sent": sent["sent"], "offered_per_s": sent["sent"] / sent["elapsed_s"] if sent["elapsed_s"] else None,
            "offer_cap_per_s": cap,
            "delivered": res["in_window"], "received_total": res["received"],
            "msgs_per_s": res["in_window"] / self.duration, "mb_per_s": res["bytes_in_window"] / self.duration / 1e6,
            "load_p50_ms": _ms(res.get("load_latency_ns_p50")), "load_p99_ms": _ms(res.get("load_latency_ns_p99")),
            "wire_mb_per_s": wire}
        if wire is not None and rec["mb_per_s"] > 1 and wire < 0.5 * rec["mb_per_s"]:
            self.problems.append(f"{s.label} round {rnd} {path}: the veth carried {wire:.1f} MB/s for "
                                 f"{rec['mb_per_s']:.1f} MB/s delivered: the payloads did not cross the link "
                                 "(Zenoh shared memory?)")
        if path == "bridge":
            self._quiesce(s)
            assert before is not None
            rec["bridge"] = self._bridge_delta(before, self._bridge_stats(s))
            rec["sub_dropped"] = res.get("dropped", 0)
        else:
            time.sleep(0.3)
        self.trials.append(rec)
        extra = ""
        if path == "bridge":
            b = rec["bridge"]
            extra = (f"  (bridge out {b['out_messages']}, its ring dropped {b['out_dropped']}; in {b['in_messages']}, "
                     f"lost {b['in_lost']}; the subscriber's ring dropped {rec['sub_dropped']})")
        self.log(f"  {s.label:>11} r{rnd} {path:>6} throughput {_show(rec['msgs_per_s'])} msg/s "
                 f"{_show(rec['mb_per_s'])} MB/s  offered {_show(rec['offered_per_s'])}/s{extra}")

    def _wire_rate(self, w0: int, w1: int) -> Optional[float]:
        """MB/s that crossed the veth from A to B during [w0, w1] (sampled at both ends)."""
        assert self.link is not None
        if self.link.mode != "veth":
            return None
        time.sleep(max(0.0, (w0 - time.time_ns()) / 1e9))
        b0, t0 = self.link.wire_bytes(), time.monotonic()
        time.sleep(max(0.0, (w1 - time.time_ns()) / 1e9))
        b1, t1 = self.link.wire_bytes(), time.monotonic()
        return None if b0 is None or b1 is None else (b1 - b0) / (t1 - t0) / 1e6

    def _quiesce(self, s: Size, limit: float = 15.0) -> None:
        """Waits until the bridges stop forwarding what the last run left in their queues."""
        last = None
        end = time.monotonic() + limit
        while time.monotonic() < end:
            st = self._bridge_stats(s)
            now = (st["out"].get("messages"), st["in"].get("messages"))
            if now == last:
                return
            last = now
            time.sleep(0.3)

    def run(self) -> None:
        for s in self.sizes:
            self.log(f"{s.label}: {s.message}")
            for path in PATHS:
                self.warm_up(path, s)
            for rnd in range(1, self.rounds + 1):
                for path in PATHS:
                    self.latency(path, s, rnd)
                for path in PATHS:
                    self.throughput(path, s, rnd)

    # -- cleanup ------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Stops the workers, removes the horus namespaces' shared memory, the netns and the veth
        (idempotent; also run at exit)."""
        if self._cleaned:
            return
        self._cleaned = True
        for name in ("hpub", "zpub", "bridgeA", "bridgeB", "hsub", "zsub"):
            w = self.w.get(name)
            if w is None:
                continue
            try:
                bye = w.stop()
            except Exception as e:  # noqa: BLE001 (clean up the rest anyway)
                self.problems.append(f"stopping {name}: {e}")
                continue
            if bye and "stats" in bye:
                self.final_stats[name] = bye["stats"]
            if w.proc.returncode not in (0, None):
                self.problems.append(f"worker {name} exited with status {w.proc.returncode} (log: {w.log_path})")
        left: list[str] = []
        for ns in self.namespaces.values():
            if glob.glob(f"/dev/shm/horus.{ns}.*"):
                subprocess.run([self.args.python, "-m", "horus", "clean", ns], env=child_env(ns),
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
            left += glob.glob(f"/dev/shm/horus.{ns}.*")
        if self.link is not None:
            left += self.link.close()
        self.cleanup_report = {"left_behind": left, "logs": str(self.log_dir)}
        if left:
            self.problems.append(f"left behind after cleanup: {', '.join(left)}")
        if [p for p in self.problems if p != "interrupted"] or self.args.keep_logs:
            self.log(f"worker logs kept in {self.log_dir}")
        else:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.cleanup_report["logs"] = None

    # -- output -------------------------------------------------------------------------------

    def document(self, t0: float, m: dict[str, Any]) -> dict[str, Any]:
        assert self.link is not None
        sizes = [{"label": s.label, "bytes": s.nbytes, "message": s.message, "latency_rate": s.rate,
                  "latency_count": self.args.count or (s.quick_count if self.args.quick else s.count)}
                 for s in self.sizes]
        rates = ", ".join(f"{s.label} {s.rate:g}/s x {d['latency_count']}" for s, d in zip(self.sizes, sizes))
        shm = ("off in both paths (transport/shared_memory/enabled = false, the bench's one change to the "
               "bridge's config: on one host Zenoh would otherwise pass payloads over 3 KiB through /dev/shm "
               "instead of the link)" if self.args.zenoh_shm == "off" else
               "on (Zenoh's default): payloads over 3 KiB pass through /dev/shm, not the link")
        offer = (f"{self.args.offer:g} x the message rate plain Zenoh delivered for the size in the same round"
                 if self.args.offer else "nothing (--offer 0: flat out)")
        method = METHOD.format(link=self.link.describe(), rates=rates, shm=shm, offer=offer, warm=f"{self.warm:g}",
                               duration=f"{self.duration:g}", rounds=self.rounds)
        m = dict(m)
        return {"date": now_utc(), "machine": m, "versions": self.versions,
                "run": {"quick": self.args.quick, "rounds": self.rounds, "zenoh_shm": self.args.zenoh_shm,
                        "offer": self.args.offer, "duration_s": self.duration,
                        "warm_s": self.warm, "link": self.link.describe(), "link_mode": self.link.mode,
                        "horus_namespaces": self.namespaces, "sizes": sizes, "wall_s": time.monotonic() - t0,
                        "loadavg_end": list(os.getloadavg())},
                "method": method, "summary": summarize(self.trials, sizes), "trials": self.trials,
                "bridge_final_stats": self.final_stats, "cleanup": self.cleanup_report, "problems": self.problems}


def _show(v: Optional[float]) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _parse(argv: Optional[list[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"CI mode: sizes {', '.join(QUICK_SIZES)}, 1 round, few messages, 1 s windows; exit 1 "
                         "if a path delivered nothing")
    ap.add_argument("--sizes", help=f"comma-separated sizes out of {', '.join(s.label for s in SIZES)}")
    ap.add_argument("--rounds", type=int, help="rounds per size (default 5; 1 with --quick)")
    ap.add_argument("--count", type=int, help="latency messages per round (default: per size)")
    ap.add_argument("--duration", type=float, help="throughput window, seconds (default 3; 1 with --quick)")
    ap.add_argument("--warm", type=float, help="throughput ramp-up before the window, s (default 0.5; 0.3 quick)")
    ap.add_argument("--out", metavar="PREFIX", help="write PREFIX.md and PREFIX.json")
    ap.add_argument("--zenoh-shm", choices=("on", "off"), default="off",
                    help="Zenoh's shared-memory transport in both paths (default off: payloads cross the link, "
                         "as between two hosts; on: Zenoh's default, effective on one host only)")
    ap.add_argument("--offer", type=float, default=1.5, metavar="X",
                    help="throughput runs: the horus publisher sends at most X times the message rate plain Zenoh "
                         "delivered in the same round (default 1.5; 0: flat out, no cap)")
    ap.add_argument("--no-netns", action="store_true", help="run both sides on loopback of this host")
    ap.add_argument("--python", default=sys.executable, help="interpreter of the workers (default: this one)")
    ap.add_argument("--keep-logs", action="store_true", help="keep the workers' stderr logs")
    a = ap.parse_args(argv)
    known = {s.label: s for s in SIZES}
    if a.sizes:
        a.sizes = [x.strip() for x in a.sizes.split(",") if x.strip()]
        bad = [x for x in a.sizes if x not in known]
        if bad or not a.sizes:
            ap.error(f"--sizes {','.join(bad) or '(empty)'}: choose from {', '.join(known)}")
    else:
        a.sizes = list(QUICK_SIZES) if a.quick else list(known)
    a.rounds = a.rounds if a.rounds is not None else (1 if a.quick else 5)
    a.duration = a.duration if a.duration is not None else (1.0 if a.quick else 3.0)
    a.warm = a.warm if a.warm is not None else (0.3 if a.quick else 0.5)
    for name, v, low in (("--rounds", a.rounds, 1), ("--count", a.count, 1)):
        if v is not None and v < low:
            ap.error(f"{name} {v} must be >= {low}")
    for name, x, lo, hi, unit in (("--duration", a.duration, 0.1, 600.0, " seconds"),
                                  ("--warm", a.warm, 0.0, 60.0, " seconds"), ("--offer", a.offer, 0.0, 1000.0, "")):
        if not lo <= x <= hi:
            ap.error(f"{name} {x:g} must be in [{lo:g}, {hi:g}]{unit}")
    return a


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Optional[list[str]] = None) -> int:
    args = _parse(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: a shell may have ignored it
        signal.signal(sig, _interrupt)
    t0 = time.monotonic()
    m = machine()
    bench = Bench(args)
    atexit.register(bench.cleanup)
    status = 0
    try:
        bench.setup()
        bench.run()
    except KeyboardInterrupt:
        bench.log("interrupted: cleaning up")
        bench.problems.append("interrupted")
        status = 130
    except WorkerError as e:
        bench.problems.append(f"worker failure: {e}")
        bench.log(f"FAILED: {e}")
        status = 1
    finally:
        bench.cleanup()
    if bench.link is None:
        return status or 1
    doc = bench.document(t0, m)
    md = render_markdown(doc)
    print(md)
    if args.out:
        paths = write_outputs(args.out, doc)
        bench.log(f"wrote {paths[0]} and {paths[1]}")
    undelivered = [f"{t['size']} round {t['round']} {t['path']} {t['kind']}" for t in bench.trials
                   if not t["delivered"]]
    if undelivered:
        bench.log(f"FAILED: nothing delivered in {'; '.join(undelivered)}")
        status = status or 1
    if args.quick and status == 0:
        expected = len(bench.sizes) * len(PATHS) * 2 * bench.rounds
        if len(bench.trials) != expected:
            bench.log(f"FAILED: {len(bench.trials)} of {expected} runs completed")
            status = 1
    if bench.cleanup_report.get("left_behind"):
        status = status or 2
    return status


if __name__ == "__main__":
    sys.exit(main())
