"""worker.py — runs one transport's ping-pong pair (bench/compare), prints one JSON object.

    python bench/compare/worker.py --transport NAME --payloads 64B,vga,... \
        --lat-n 10000 --lat-cap 20 --hop-n 2000 --thr-n 20000 --thr-cap 5 --tag T

The runner forks two children (multiprocessing 'fork': the mp.* transports need
objects created before the fork), pins A to one core and B to another, and
collects their results. Per payload both children run the same schedule:

  warm-up    A sends, B echoes; A re-sends after a timeout (a subscriber may
             connect late) until WARM round trips succeeded; then warm_bursts
             bursts of WINDOW messages (B echoes each), then both agree.
  latency    A: t0; make(seq); send; recv reply; touch reply; t1 -> RTT sample.
             B: recv; touch; make(seq); send.  One-way latency = RTT/2.
  hop        same, but each side does recv -> torch(msg) -> op instead of touch.
  throughput A sends WINDOW messages back to back, B touches each and replies
             once per WINDOW (to the message flagged ACK); A waits for that reply
             before the next window.  msgs/s = messages / elapsed at A.

"touch" = read one byte per 4 KB page of the payload (u8[::4096].sum()) plus
the 8-byte sequence number; "op" = t[0].sum() (t.sum() for 1-D payloads).
Every segment's last message carries the END flag so B follows A's schedule
without knowing its counts. CPU time (time.process_time) is taken by both sides
at segment start/end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import transports as T  # noqa: E402

END = 1 << 60
ACK = 1 << 61
WARM = 1 << 59
WARM_END = 1 << 58
SEQ_MASK = (1 << 48) - 1


def touch(u8):
    return int(u8[::4096].sum())


def torch_op(x):
    return (x[0].sum() if x.dim() > 1 else x.sum()).item()


def pin(cpu):
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})
            return cpus[cpu % len(cpus)]
    except (AttributeError, OSError):
        pass
    return None


class Desync(RuntimeError):
    pass


def await_reply(tr, want, what):
    """Receives until the reply carrying sequence number `want` (others are dropped)."""
    while True:
        r = tr.recv(20.0)
        if r is None:
            raise TimeoutError(f"no reply to {what}")
        if T.read_seq(tr.u8(r)) == want:
            return


def role_a(tr, p, cfg, out):
    """Ping side: drives the schedule, measures."""
    res = {}
    n_warm = cfg["warm"]
    # ---- warm-up (with re-send: late subscribers lose the first messages)
    ok = 0
    tries = 0
    t_end = time.perf_counter() + cfg["warm_cap"]
    seq = 0
    # at least n_warm round trips (rings/pools: enough to cycle every block once,
    # so first-touch page faults are not measured), at least warm_cap seconds
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
            if T.read_seq(tr.u8(r)) == (seq | WARM):
                ok += 1
                break
        del r
        if ok >= n_warm and time.perf_counter() > t_end:
            break
    res["warm"] = ok
    # Bursts of WINDOW messages, as the throughput phase sends them: a pool that grows on
    # demand (horus) reaches the throughput phase's working set here, not while measured
    # (peers that preallocate did so when their service was created). B echoes each one;
    # replies other than the burst's last are dropped.
    for _ in range(cfg.get("warm_bursts", 0)):
        for _ in range(T.WINDOW):
            seq += 1
            tr.send(tr.make(seq | WARM))
        await_reply(tr, seq | WARM, "a warm-up burst")
    seq += 1
    tr.send(tr.make(seq | WARM_END))
    await_reply(tr, seq | WARM_END, "warm-up end")
    while tr.recv(0.05) is not None:  # drop stale replies
        pass

    pc = time.perf_counter
    pcn = time.perf_counter_ns
    # ---- latency
    def pingpong(n, cap, hop):
        rtts = []
        c0 = time.process_time()
        t_stop = pc() + cap
        for i in range(n):
            last = i == n - 1 or pc() > t_stop
            s = i | (END if last else 0)
            t0 = pcn()
            tr.send(tr.make(s))
            r = tr.recv(5.0)
            if r is None:
                raise TimeoutError(f"no reply to message {i} within 5 s (lost?)")
            if hop:
                torch_op(tr.torch(r))
            else:
                touch(tr.u8(r))
            got = T.read_seq(tr.u8(r))
            t1 = pcn()
            del r
            if got != s:
                raise Desync(f"reply {got:#x} to {s:#x}")
            rtts.append(t1 - t0)
            if last:
                break
        return rtts, time.process_time() - c0

    rtts, cpu = pingpong(cfg["lat_n"], cfg["lat_cap"], False)
    res["rtt_ns"] = rtts
    res["lat_cpu_a_s"] = cpu
    if cfg["hop_n"] > 0:
        hrtts, _ = pingpong(cfg["hop_n"], cfg["hop_cap"], True)
        res["hop_rtt_ns"] = hrtts
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
                tr.send(tr.make(s))
                sent += 1
            r = tr.recv(10.0)
            if r is None:
                raise TimeoutError(f"no ack within 10 s after {sent} messages (lost?)")
            touch(tr.u8(r))
            got = T.read_seq(tr.u8(r))
            del r
            if got != s:
                raise Desync(f"ack {got:#x} to {s:#x}")
            if last:
                break
        el = pc() - t0
        res["thr_msgs"] = sent
        res["thr_s"] = el
        res["thr_cpu_a_s"] = time.process_time() - c0
    out.update(res)


def role_b(tr, p, cfg, out):
    """Pong side: echoes, touches, follows A's flags."""
    # warm-up
    while True:
        r = tr.recv(30.0)
        if r is None:
            raise TimeoutError("B: nothing received in warm-up")
        s = T.read_seq(tr.u8(r))
        del r
        tr.send(tr.make(s))
        if s & WARM_END:
            break

    def echo(hop):
        c0 = time.process_time()
        n = 0
        while True:
            r = tr.recv(30.0)
            if r is None:
                raise TimeoutError("B: nothing received")
            if hop:
                torch_op(tr.torch(r))
            else:
                touch(tr.u8(r))
            s = T.read_seq(tr.u8(r))
            del r
            tr.send(tr.make(s))
            n += 1
            if s & END:
                return n, time.process_time() - c0

    n, cpu = echo(False)
    out["lat_cpu_b_s"] = cpu
    if cfg["hop_n"] > 0:
        echo(True)
    if cfg["thr_n"] > 0:
        c0 = time.process_time()
        n = 0
        while True:
            r = tr.recv(30.0)
            if r is None:
                raise TimeoutError("B: nothing received (throughput)")
            u8 = tr.u8(r)
            touch(u8)
            s = T.read_seq(u8)
            del r, u8
            n += 1
            if s & ACK:
                tr.send(tr.make(s))
            if s & END:
                break
        out["thr_cpu_b_s"] = time.process_time() - c0
        out["thr_msgs_b"] = n


def child(role, tname, payload_keys, cfg, tag, shared, q):
    cpu = pin(0 if role == "a" else 1)
    import faulthandler

    faulthandler.dump_traceback_later(max(5, cfg.get("timeout", 600) - 5), exit=True)
    import torch

    torch.set_num_threads(1)
    cls = T.BY_NAME[tname]
    results = {"role": role, "cpu": cpu, "payloads": {}}
    for key in payload_keys:
        p = T.PAYLOAD_BY_KEY[key]
        out = {}
        tr = None
        try:
            tr = cls(role, p, shared[key], tag)
            (role_a if role == "a" else role_b)(tr, p, cfg, out)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transport", required=True)
    ap.add_argument("--payloads", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--cfg", required=True, help="JSON schedule config")
    a = ap.parse_args()
    cfg = json.loads(a.cfg)
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    cls = T.BY_NAME[a.transport]
    keys = a.payloads.split(",")
    shared, keep = {}, []
    for k in keys:
        s = cls.parent_setup(T.PAYLOAD_BY_KEY[k], a.tag)
        shared[k] = s
        keep.append(s)
    q = ctx.Queue()
    procs = [ctx.Process(target=child, args=(r, a.transport, keys, cfg, a.tag, shared, q)) for r in ("b", "a")]
    got = T.run_pair(procs, q, cfg.get("timeout", 600))
    # cleanup of the hand-rolled shm rings
    for s in keep:
        if isinstance(s, tuple) and len(s) == 6:
            for shm in s[5]:
                try:
                    shm.close()
                    shm.unlink()
                except Exception:
                    pass
    exitcodes = [pr.exitcode for pr in procs]
    print(json.dumps({"transport": a.transport, "a": got.get("a"), "b": got.get("b"), "exitcodes": exitcodes}))


if __name__ == "__main__":
    main()
