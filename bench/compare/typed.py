"""typed.py — the typed-message rows of the comparison (bench/compare): small messages, not buffers.

    python bench/compare/typed.py --transport NAME --payloads cmdvel,dict --tag T --cfg JSON
    python bench/compare/typed.py --construct main|bench --number N --repeat R

The first form is worker.py for typed messages: it forks a ping (A) and a pong (B) process,
pinned like worker.py's, runs worker.py's schedule (warm-up with re-sends and bursts, latency
ping-pong, throughput windows of 16 with one reply per window, CPU time per phase) and prints
the same JSON object, so run.py aggregates both alike. What differs is the message:

  cmdvel   a planar velocity command, two float32 fields (linear, angular):
           horus        horus.CmdVel on horus.Topic(horus.CmdVel, name)   (.venv)
           horus-robotics  its CmdVel on its Topic(CmdVel, capacity, endpoint=)  (.venv-bench)
           iceoryx2     a ctypes.Structure of two c_float on a publish_subscribe(struct) service,
                        loan_uninit() -> write_payload(struct) -> send(), iceoryx2's own example idiom
           horus-cpp    (native: cpp/horus_worker.cpp, horus::Topic<horus::msg::CmdVel>)
  dict     a 10-key dict of small values (3 ints, 3 floats, 2 short strings, a bool, None):
           horus        schemaless horus.Topic(name) (MessagePack in the message)
           horus-robotics  its Topic(name, capacity) (GenericMessage; it refuses > 4 KB)

Every side makes a fresh message per send (the transport's natural constructor, positional
arguments for all: CmdVel(linear, angular)) and the receiver reads every field it carries the
sequence number in: for cmdvel both fields (linear = the low 24 bits of the sequence number,
exact in float32; angular = the schedule's flag bits (END/ACK/WARM/WARM_END) as a small
integer), for the dict its "seq" and "x" entries (the whole dict is decoded by recv on both
transports anyway). The values are the same for every transport. Receivers poll (try_recv /
recv / receive in a loop, transports.poll), like the peers, which have no blocking receive.

The second form is the construction micro-benchmark (timeit: min over `repeat` runs of `number`
constructions, ns per construction, pinned to the first usable core), one interpreter per venv:
"main" times horus.CmdVel, "bench" horus-robotics' CmdVel and the iceoryx2 ctypes struct.

Only numpy and the standard library are imported at module level (both venvs import this file).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import transports as T  # noqa: E402  (numpy only)
from worker import ACK, END, WARM, WARM_END, Desync, pin  # noqa: E402

# (key, label, bytes of the message's fields or None where it is not fixed)
TYPED_PAYLOADS = [
    ("cmdvel", "CmdVel (2 x float32)", 8),
    ("dict", "10-key dict (schemaless)", None),
]
TYPED_PAYLOAD_BY_KEY = {p[0]: p for p in TYPED_PAYLOADS}

LOW = (1 << 24) - 1  # float32 holds integers up to 2**24 exactly
FLAG_SHIFT = 58      # END/ACK/WARM/WARM_END are bits 58..61 of worker.py's sequence numbers


def enc(seq: int):
    """(linear, angular) carrying a sequence number: low 24 bits, flag bits as a small integer."""
    return float(seq & LOW), float(seq >> FLAG_SHIFT)


def dec(linear: float, angular: float) -> int:
    return int(linear) | (int(angular) << FLAG_SHIFT)


def make_dict(seq: int) -> dict:
    """The 10-key dict every dict row sends (same values everywhere but seq)."""
    return {"seq": seq, "id": 7, "count": 1000, "x": 1.5, "y": -2.25, "ratio": 0.75,
            "name": "robot-1", "mode": "auto", "ok": True, "err": None}


def _cap() -> int:
    return int(os.environ.get("HORUS_CMP_CAPACITY", 2 * T.WINDOW))


# ---------------------------------------------------------------- adapters
class HorusMsg:
    """horus (this project): horus.CmdVel on horus.Topic(CmdVel, name); dicts on horus.Topic(name)."""

    name = "horus"
    venv = "main"
    payloads = ("cmdvel", "dict")

    def __init__(self, role, key, tag):
        import horus

        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")
        cap = _cap()
        if key == "cmdvel":
            self.C = horus.CmdVel
            self.tx = horus.Topic(horus.CmdVel, f"cmpt.{tag}.{key}.{out}", capacity=cap)
            self.rx = horus.Topic(horus.CmdVel, f"cmpt.{tag}.{key}.{inp}", capacity=cap)
        else:
            self.tx = horus.Topic(f"cmpt.{tag}.{key}.{out}", capacity=cap)
            self.rx = horus.Topic(f"cmpt.{tag}.{key}.{inp}", capacity=cap)
        self.send = self.tx.send
        self.fetch = self.rx.try_recv
        if key == "dict":
            self.make = make_dict
            self.seq = _dict_seq

    def make(self, seq):
        return self.C(*enc(seq))

    def recv(self, timeout):
        return T.poll(self.fetch, timeout)

    @staticmethod
    def seq(m):
        return dec(m.linear, m.angular)

    def close(self):
        pass


def _dict_seq(d):
    d["x"]
    return d["seq"]


class HorusRoboticsMsg(HorusMsg):
    """horus-robotics (PyPI 0.4.1): its CmdVel on Topic(CmdVel, capacity, endpoint=); dicts on
    Topic(name, capacity) (its GenericMessage path). Its recv() does not block: polled."""

    name = "horus-robotics"
    venv = "bench"
    payloads = ("cmdvel", "dict")

    def __init__(self, role, key, tag):
        import horus  # the horus-robotics package in .venv-bench

        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")
        cap = _cap()
        if key == "cmdvel":
            self.C = horus.CmdVel
            self.tx = horus.Topic(horus.CmdVel, cap, endpoint=f"cmpt_{tag}_{key}_{out}")
            self.rx = horus.Topic(horus.CmdVel, cap, endpoint=f"cmpt_{tag}_{key}_{inp}")
        else:
            self.tx = horus.Topic(f"cmpt_{tag}_{key}_{out}", cap)
            self.rx = horus.Topic(f"cmpt_{tag}_{key}_{inp}", cap)
        self.send = self.tx.send
        self.fetch = self.rx.recv
        if key == "dict":
            self.make = make_dict
            self.seq = _dict_seq

    def info(self):
        """Which of its backends horus-robotics picked (it chooses per topic at run time)."""
        return f"send {self.tx.backend_type}, recv {self.rx.backend_type}"


class CmdVelC(ctypes.Structure):
    """The iceoryx2 payload: CmdVel's C layout (two float32)."""

    _fields_ = [("linear", ctypes.c_float), ("angular", ctypes.c_float)]

    @staticmethod
    def type_name():
        return "CmdVel"


class Iceoryx2Msg:
    """iceoryx2 Python binding: publish_subscribe(CmdVelC) per direction (same service settings as
    transports.Iceoryx2), loan_uninit() -> write_payload(CmdVelC(linear, angular)) -> send();
    the receiver polls receive() and reads sample.payload().contents.linear / .angular."""

    name = "iceoryx2"
    venv = "bench"
    payloads = ("cmdvel",)

    def __init__(self, role, key, tag):
        import iceoryx2 as iox2

        iox2.set_log_level(iox2.LogLevel.Error)
        self.node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")

        def svc(d):
            return (
                self.node.service_builder(iox2.ServiceName.new(f"cmpt/{tag}/{key}/{d}"))
                .publish_subscribe(CmdVelC)
                .subscriber_max_buffer_size(2 * T.WINDOW)
                .subscriber_max_borrowed_samples(4)
                .history_size(0)
                .enable_safe_overflow(False)
                .open_or_create()
            )

        self.s_out, self.s_in = svc(out), svc(inp)
        self.pub = self.s_out.publisher_builder().max_loaned_samples(4).create()
        self.sub = self.s_in.subscriber_builder().create()
        self.loan = self.pub.loan_uninit
        self.fetch = self.sub.receive

    def make(self, seq):
        return self.loan().write_payload(CmdVelC(*enc(seq)))

    @staticmethod
    def send(s):
        s.send()

    def recv(self, timeout):
        return T.poll(self.fetch, timeout)

    @staticmethod
    def seq(s):
        p = s.payload().contents
        return dec(p.linear, p.angular)

    def close(self):
        pass


class HorusCppMsg:
    """horus C++ API: horus::Topic<horus::msg::CmdVel>, try_recv() polling. Native: run.py runs
    build/compare/horus_worker --transport horus-cpp-spin --payloads cmdvel."""

    name = "horus-cpp"
    venv = None
    native = True
    native_transport = "horus-cpp-spin"
    payloads = ("cmdvel",)


TYPED_TRANSPORTS = [HorusMsg, HorusCppMsg, HorusRoboticsMsg, Iceoryx2Msg]
TYPED_BY_NAME = {t.name: t for t in TYPED_TRANSPORTS}


# ---------------------------------------------------------------- schedule (worker.py's, per message seq())
def await_reply(tr, want, what):
    while True:
        r = tr.recv(20.0)
        if r is None:
            raise TimeoutError(f"no reply to {what}")
        if tr.seq(r) == want:
            return


def role_a(tr, cfg, out):
    n_warm = cfg["warm"]
    ok = tries = seq = 0
    t_end = time.perf_counter() + cfg["warm_cap"]
    while ok < n_warm or time.perf_counter() < t_end:
        seq += 1
        tr.send(tr.make(seq | WARM))
        while True:
            r = tr.recv(0.5)
            if r is None:
                tries += 1
                if tries > 40:
                    raise TimeoutError("no reply during warm-up (20 s)")
                break
            if tr.seq(r) == (seq | WARM):
                ok += 1
                break
        del r
        if ok >= n_warm and time.perf_counter() > t_end:
            break
    out["warm"] = ok
    for _ in range(cfg.get("warm_bursts", 0)):
        for _ in range(T.WINDOW):
            seq += 1
            tr.send(tr.make(seq | WARM))
        await_reply(tr, seq | WARM, "a warm-up burst")
    seq += 1
    tr.send(tr.make(seq | WARM_END))
    await_reply(tr, seq | WARM_END, "warm-up end")
    while tr.recv(0.05) is not None:
        pass

    pc, pcn = time.perf_counter, time.perf_counter_ns
    make, send, recv, get = tr.make, tr.send, tr.recv, tr.seq
    # ---- latency: t0; make; send; recv reply; read it; t1
    rtts = []
    c0 = time.process_time()
    t_stop = pc() + cfg["lat_cap"]
    n = cfg["lat_n"]
    for i in range(n):
        last = i == n - 1 or pc() > t_stop
        s = i | (END if last else 0)
        t0 = pcn()
        send(make(s))
        r = recv(5.0)
        if r is None:
            raise TimeoutError(f"no reply to message {i} within 5 s (lost?)")
        got = get(r)
        t1 = pcn()
        del r
        if got != s:
            raise Desync(f"reply {got:#x} to {s:#x}")
        rtts.append(t1 - t0)
        if last:
            break
    out["rtt_ns"] = rtts
    out["lat_cpu_a_s"] = time.process_time() - c0
    # ---- throughput
    if cfg["thr_n"] > 0:
        W = T.WINDOW
        nb = max(1, cfg["thr_n"] // W)
        c0 = time.process_time()
        t0 = pc()
        t_stop = t0 + cfg["thr_cap"]
        sent = 0
        for b in range(nb):
            last = b == nb - 1 or pc() > t_stop
            for j in range(W):
                s = sent | (ACK if j == W - 1 else 0) | (END if last and j == W - 1 else 0)
                send(make(s))
                sent += 1
            r = recv(10.0)
            if r is None:
                raise TimeoutError(f"no ack within 10 s after {sent} messages (lost?)")
            got = get(r)
            del r
            if got != s:
                raise Desync(f"ack {got:#x} to {s:#x}")
            if last:
                break
        out["thr_s"] = pc() - t0
        out["thr_msgs"] = sent
        out["thr_cpu_a_s"] = time.process_time() - c0


def role_b(tr, cfg, out):
    make, send, recv, get = tr.make, tr.send, tr.recv, tr.seq
    while True:
        r = recv(30.0)
        if r is None:
            raise TimeoutError("B: nothing received in warm-up")
        s = get(r)
        del r
        send(make(s))
        if s & WARM_END:
            break
    c0 = time.process_time()
    while True:
        r = recv(30.0)
        if r is None:
            raise TimeoutError("B: nothing received")
        s = get(r)
        del r
        send(make(s))
        if s & END:
            break
    out["lat_cpu_b_s"] = time.process_time() - c0
    if cfg["thr_n"] > 0:
        c0 = time.process_time()
        n = 0
        while True:
            r = recv(30.0)
            if r is None:
                raise TimeoutError("B: nothing received (throughput)")
            s = get(r)
            del r
            n += 1
            if s & ACK:
                send(make(s))
            if s & END:
                break
        out["thr_cpu_b_s"] = time.process_time() - c0
        out["thr_msgs_b"] = n


def child(role, tname, keys, cfg, tag, q):
    cpu = pin(0 if role == "a" else 1)
    import faulthandler

    faulthandler.dump_traceback_later(max(5, cfg.get("timeout", 600) - 5), exit=True)
    cls = TYPED_BY_NAME[tname]
    results = {"role": role, "cpu": cpu, "payloads": {}}
    for key in keys:
        out = {}
        tr = None
        try:
            tr = cls(role, key, tag)
            (role_a if role == "a" else role_b)(tr, cfg, out)
            if hasattr(tr, "info"):
                out["info"] = tr.info()
        except Exception as e:  # reported per payload, the run goes on
            out["error"] = f"{type(e).__name__}: {e}"
            out["traceback"] = traceback.format_exc()[-2000:]
        finally:
            if tr is not None:
                try:
                    tr.close()
                except Exception:
                    pass
            del tr
        results["payloads"][key] = out
    q.put(json.dumps(results))


def run_pair(tname, keys, cfg, tag):
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=child, args=(r, tname, keys, cfg, tag, q)) for r in ("b", "a")]
    got = T.run_pair(procs, q, cfg.get("timeout", 600))
    return {"transport": tname, "a": got.get("a"), "b": got.get("b"), "exitcodes": [pr.exitcode for pr in procs]}


# ---------------------------------------------------------------- construction micro-benchmark
# (row name, venv, setup code, statement): each statement makes one CmdVel of (1.0, 0.5).
CONSTRUCT = [
    ("horus CmdVel(linear=1.0, angular=0.5)", "main", "import horus; C = horus.CmdVel", "C(linear=1.0, angular=0.5)"),
    ("horus CmdVel(1.0, 0.5)", "main", "import horus; C = horus.CmdVel", "C(1.0, 0.5)"),
    ("horus-robotics CmdVel(1.0, 0.5)", "bench", "import horus; C = horus.CmdVel", "C(1.0, 0.5)"),
    ("horus-robotics CmdVel(linear=1.0, angular=0.5)", "bench", "import horus; C = horus.CmdVel",
     "C(linear=1.0, angular=0.5)"),
    ("iceoryx2 ctypes CmdVel(1.0, 0.5)", "bench", "import iceoryx2, typed; C = typed.CmdVelC", "C(1.0, 0.5)"),
    ("iceoryx2 ctypes CmdVel(linear=1.0, angular=0.5)", "bench", "import iceoryx2, typed; C = typed.CmdVelC",
     "C(linear=1.0, angular=0.5)"),
]
CONSTRUCT_BASE = "horus CmdVel(linear=1.0, angular=0.5)"


def construct_main(venv, number, repeat):
    """{row: {"ns": min ns per construction, "runs_ns": [...]} or {"error": ...}} for one venv's rows."""
    import timeit

    pin(0)
    out = {}
    for name, v, setup, stmt in CONSTRUCT:
        if v != venv:
            continue
        try:
            g = {}
            exec(setup, g)
            tm = timeit.Timer(stmt, globals=g)
            tm.timeit(number=max(1, number // 10))  # warm
            runs = [x / number * 1e9 for x in tm.repeat(repeat=repeat, number=number)]
            out[name] = {"ns": min(runs), "runs_ns": runs}
        except Exception as e:  # noqa: BLE001
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transport")
    ap.add_argument("--payloads")
    ap.add_argument("--tag")
    ap.add_argument("--cfg")
    ap.add_argument("--construct", choices=("main", "bench"))
    ap.add_argument("--number", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    if a.construct:
        print(json.dumps({"construct": construct_main(a.construct, a.number, a.repeat)}))
        return 0
    cfg = json.loads(a.cfg)
    keys = [k for k in a.payloads.split(",") if k in TYPED_BY_NAME[a.transport].payloads]
    print(json.dumps(run_pair(a.transport, keys, cfg, a.tag)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
