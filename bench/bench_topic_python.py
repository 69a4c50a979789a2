#!/usr/bin/env python3
"""Cross-process Topic latency in Python, side by side with the usual alternatives.

Every transport runs in the same invocation, in separate processes
(multiprocessing, "spawn" start method: a fresh interpreter, like a real second
program), for payloads of 64 B, 4 KiB, 64 KiB, 640x480x3, 1920x1080x3 and 8 MiB:

* horus          Topic ping-pong over two topics: the parent sends a message and
                 waits in ``recv(timeout=5)`` (polls up to HORUS_RECV_SPIN_US,
                 then futex sleep; GIL released); the
                 child waits in ``recv(timeout=5)``, touches the data and sends
                 the *received* message back (zero-copy echo). Image for the two
                 image sizes, 1-D uint8 Tensor for the others.
* horus_spin     the same with both sides polling ``try_recv()`` (busy-poll).
* horus_notouch  horus without the touch (no to_numpy() at all): the transport
                 alone, to show what is flat in payload size and what is not.
* mp_queue       ``multiprocessing.Queue`` of the NumPy array (pickled): put /
                 get, the child puts the array it got back.
* shm_memcpy     ``multiprocessing.shared_memory``: the sender copies the array
                 into a shared block (``np.copyto``) and notifies with one byte
                 on a ``multiprocessing.Pipe``; the child touches, copies it into
                 its reply block and notifies back (the hand-rolled approach).

One-way latency = round trip / 2, one sample per round trip, after a warm-up.
The message (or array) sent is allocated and filled once per size and re-sent,
so allocation is not timed.

The touch (the same for every transport, on both sides of each hop): read one
byte per 4 KiB page of the received payload (``a.reshape(-1)[::4096].sum()``),
so a transport that maps lazily cannot look free. For horus this includes the
``to_numpy()`` call that a real consumer makes.

Also:

* wake           blocking-recv wake latency: the parent stamps a fresh 1-byte
                 Tensor with ``time.monotonic_ns()`` (``set_timestamp_ns``) and
                 sends it every ~1 ms; the child sleeps in ``recv(timeout=1)``
                 and records monotonic_ns() - stamp when recv returns.
* throughput     one-way horus: the parent re-sends one pre-filled message as
                 fast as it can for 1 s (0.1 s with --quick); the child polls
                 try_recv() and counts delivered and dropped (a publisher never
                 waits for a slow subscriber, so a slower subscriber drops).

    python bench/bench_topic_python.py             # full (~1 min)
    python bench/bench_topic_python.py --quick     # a few seconds
    python bench/bench_topic_python.py --json out.json
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time

if __name__ == "__main__" and "HORUS_NAMESPACE" not in os.environ:
    # A private namespace, inherited by the spawned children (they read the
    # environment when they first touch the pool).
    os.environ["HORUS_NAMESPACE"] = f"benchpy{os.getpid()}"

import numpy as np  # noqa: E402

import horus  # noqa: E402

PAGE = 4096
PAYLOADS = [
    # label, bytes, image shape (h, w, 3) or None for a 1-D uint8 Tensor
    ("64 B", 64, None),
    ("4 KiB", 4096, None),
    ("64 KiB", 65536, None),
    ("640x480x3 Image", 921600, (480, 640, 3)),
    ("1920x1080x3 Image", 6220800, (1080, 1920, 3)),
    ("8 MiB", 8 << 20, None),
]
TRANSPORTS = ["horus", "horus_spin", "horus_notouch", "mp_queue", "shm_memcpy"]
TIMEOUT = 5.0


def touch(a: np.ndarray) -> int:
    """Reads one byte per 4 KiB page (the same for every transport)."""
    return int(a.reshape(-1)[::PAGE].sum())


def spin_recv(topic):
    """Busy-polls try_recv(); sched_yield() every 1024 empty polls so that two
    spinning processes sharing one core (other load) do not lose a whole time
    slice per message. With two free cores the yield is never reached."""
    m = topic.try_recv()
    n = 0
    while m is None:
        n += 1
        if n & 1023 == 0:
            os.sched_yield()
        m = topic.try_recv()
    return m


def make_array(nbytes, shape):
    a = np.full(shape if shape else (nbytes,), 0x5A, dtype=np.uint8)
    assert a.nbytes == nbytes
    return a


def make_message(nbytes, shape):
    if shape:
        m = horus.Image(shape[0], shape[1], "rgb8")
    else:
        m = horus.Tensor((nbytes,), "uint8")
    m.to_numpy()[...] = 0x5A
    return m


def make_stop(shape):
    return horus.Image(1, 1, "rgb8") if shape else horus.Tensor((1,), "uint8")


def topic_names(transport, i):
    tag = f"{os.getpid()}.{transport}.{i}"
    return f"bench.ping.{tag}", f"bench.pong.{tag}"


# ------------------------------------------------------------------ children
def _echo_child(transport, payloads, names, ctrl, data_conn, queues, shm_names):
    """The replying side, one process per transport, all payload sizes in turn."""
    if transport.startswith("horus"):
        spin = transport == "horus_spin"
        do_touch = transport != "horus_notouch"
        for i, (_, nbytes, shape) in enumerate(payloads):
            mtype = horus.Image if shape else horus.Tensor
            ping = horus.Topic(mtype, names[i][0])
            pong = horus.Topic(mtype, names[i][1])
            ctrl.send("ready")
            while True:
                if spin:
                    m = spin_recv(ping)
                else:
                    m = ping.recv(timeout=TIMEOUT)
                    if m is None:
                        raise RuntimeError("echo child: no ping within timeout")
                if m.nbytes != nbytes:
                    break  # the stop message
                if do_touch:
                    touch(m.to_numpy())
                pong.send(m)
            del ping, pong
    elif transport == "mp_queue":
        q_ping, q_pong = queues
        for _ in payloads:
            ctrl.send("ready")
            while True:
                a = q_ping.get()
                if a is None:
                    break
                touch(a)
                q_pong.put(a)
    elif transport == "shm_memcpy":
        from multiprocessing import shared_memory

        for i, (_, nbytes, shape) in enumerate(payloads):
            shm = shared_memory.SharedMemory(name=shm_names[i])
            buf = np.ndarray((2 * nbytes,), dtype=np.uint8, buffer=shm.buf)
            ping_v = buf[:nbytes].reshape(shape if shape else (nbytes,))
            pong_v = buf[nbytes:].reshape(shape if shape else (nbytes,))
            ctrl.send("ready")
            while True:
                b = data_conn.recv_bytes()
                if b == b"s":
                    break
                touch(ping_v)
                np.copyto(pong_v, ping_v)
                data_conn.send_bytes(b"x")
            del buf, ping_v, pong_v
            shm.close()
    ctrl.send("done")


def _wake_child(name, ctrl):
    t = horus.Topic(horus.Tensor, name)
    ctrl.send("ready")
    out = []
    while True:
        m = t.recv(timeout=1.0)
        now = time.monotonic_ns()
        if m is None:
            continue
        if m.nbytes != 1:
            break
        out.append(now - m.timestamp_ns)
    ctrl.send(out)


def _sink_child(payloads, names, ctrl):
    for i, (_, nbytes, shape) in enumerate(payloads):
        t = horus.Topic(horus.Image if shape else horus.Tensor, names[i])
        ctrl.send("ready")
        n = 0
        first = last = 0
        while True:
            m = spin_recv(t)
            if m.nbytes != nbytes:
                break
            last = time.perf_counter_ns()
            if n == 0:
                first = last
            n += 1
        ctrl.send((n, t.dropped, first, last))
        del t


# ------------------------------------------------------------------ parent side
def stats(samples_ns):
    v = sorted(samples_ns)
    if not v:
        return {"n": 0}
    return {
        "n": len(v),
        "median_ns": v[len(v) // 2],
        "p99_ns": v[min(len(v) - 1, int(len(v) * 0.99))],
        "mean_ns": statistics.fmean(v),
        "min_ns": v[0],
    }


def _pingpong_loop(one_round, samples, warmup, budget_s, min_samples=100):
    """Runs one_round() (returns nothing); one-way = RTT/2. Time-capped for slow transports."""
    for _ in range(warmup):
        one_round()
    out = []
    t_end = time.perf_counter() + budget_s
    clock = time.perf_counter_ns
    while len(out) < samples and (len(out) < min_samples or time.perf_counter() < t_end):
        t0 = clock()
        one_round()
        out.append((clock() - t0) / 2)
    return out


def run_latency(transport, payloads, samples, warmup, budget_s, ctx):
    names = [topic_names(transport, i) for i in range(len(payloads))]
    ctrl_parent, ctrl_child = ctx.Pipe()
    data_parent = data_child = None
    queues = None
    shms = []
    topics = []
    if transport.startswith("horus"):
        # The parent opens its topics first, so it receives every reply.
        for i, (_, _, shape) in enumerate(payloads):
            mtype = horus.Image if shape else horus.Tensor
            topics.append((horus.Topic(mtype, names[i][0]), horus.Topic(mtype, names[i][1])))
    elif transport == "mp_queue":
        queues = (ctx.Queue(), ctx.Queue())
    elif transport == "shm_memcpy":
        from multiprocessing import shared_memory

        data_parent, data_child = ctx.Pipe()
        shms = [shared_memory.SharedMemory(create=True, size=2 * nbytes) for _, nbytes, _ in payloads]
    proc = ctx.Process(target=_echo_child,
                       args=(transport, payloads, names, ctrl_child, data_child, queues,
                             [s.name for s in shms]),
                       daemon=True)
    proc.start()
    results = []
    try:
        for i, (label, nbytes, shape) in enumerate(payloads):
            if ctrl_parent.recv() != "ready":
                raise RuntimeError("echo child failed")
            if transport.startswith("horus"):
                ping, pong = topics[i]
                msg = make_message(nbytes, shape)
                do_touch = transport != "horus_notouch"
                if transport == "horus_spin":
                    def one_round():
                        ping.send(msg)
                        touch(spin_recv(pong).to_numpy())
                else:
                    def one_round():
                        ping.send(msg)
                        r = pong.recv(timeout=TIMEOUT)
                        if r is None:
                            raise RuntimeError("no reply within timeout")
                        if do_touch:
                            touch(r.to_numpy())
                v = _pingpong_loop(one_round, samples, warmup, budget_s)
                ping.send(make_stop(shape))
            elif transport == "mp_queue":
                arr = make_array(nbytes, shape)
                q_ping, q_pong = queues

                def one_round():
                    q_ping.put(arr)
                    touch(q_pong.get())
                v = _pingpong_loop(one_round, samples, min(warmup, 50), budget_s)
                q_ping.put(None)
            else:
                arr = make_array(nbytes, shape)
                buf = np.ndarray((2 * nbytes,), dtype=np.uint8, buffer=shms[i].buf)
                ping_v = buf[:nbytes].reshape(arr.shape)
                pong_v = buf[nbytes:].reshape(arr.shape)
                send_b, recv_b = data_parent.send_bytes, data_parent.recv_bytes

                def one_round():
                    np.copyto(ping_v, arr)
                    send_b(b"x")
                    recv_b()
                    touch(pong_v)
                v = _pingpong_loop(one_round, samples, min(warmup, 50), budget_s)
                data_parent.send_bytes(b"s")
                del buf, ping_v, pong_v
            results.append({"payload": label, "bytes": nbytes, **stats(v)})
        if ctrl_parent.recv() != "done":
            raise RuntimeError("echo child failed")
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
        for s in shms:
            s.close()
            s.unlink()
    return results


def run_wake(samples, gap_s, ctx):
    name = f"bench.wake.{os.getpid()}"
    ctrl_parent, ctrl_child = ctx.Pipe()
    t = horus.Topic(horus.Tensor, name)
    proc = ctx.Process(target=_wake_child, args=(name, ctrl_child), daemon=True)
    proc.start()
    ctrl_parent.recv()
    for _ in range(samples):
        m = horus.Tensor((1,), "uint8")
        time.sleep(gap_s)
        m.set_timestamp_ns(time.monotonic_ns())
        t.send(m)
    time.sleep(gap_s)
    t.send(horus.Tensor((2,), "uint8"))
    out = ctrl_parent.recv()
    proc.join(timeout=10)
    return {**stats(out), "gap_ms": gap_s * 1e3}


def run_throughput(payloads, duration_s, ctx):
    names = [f"bench.tput.{os.getpid()}.{i}" for i in range(len(payloads))]
    ctrl_parent, ctrl_child = ctx.Pipe()
    proc = ctx.Process(target=_sink_child, args=(payloads, names, ctrl_child), daemon=True)
    proc.start()
    res = []
    for i, (label, nbytes, shape) in enumerate(payloads):
        ctrl_parent.recv()
        t = horus.Topic(horus.Image if shape else horus.Tensor, names[i])
        msg = make_message(nbytes, shape)
        send = t.send
        t0 = time.perf_counter_ns()
        until = t0 + int(duration_s * 1e9)
        count = 0
        t1 = t0
        while t1 < until:
            for _ in range(256):
                send(msg)
            count += 256
            t1 = time.perf_counter_ns()
        t.send(make_stop(shape))
        n, dropped, first, last = ctrl_parent.recv()
        res.append({"payload": label, "bytes": nbytes, "sent": count, "delivered": n, "dropped": dropped,
                    "send_rate": count / ((t1 - t0) * 1e-9),
                    "delivered_rate": (n - 1) / ((last - first) * 1e-9) if last > first else 0.0})
        del t
    proc.join(timeout=10)
    return res


def run(quick: bool = False, samples: int | None = None) -> dict:
    ctx = mp.get_context("spawn")
    samples = samples or (500 if quick else 10000)
    warmup = max(50, samples // 10)
    budget_s = 0.25 if quick else 4.0  # per transport and size: caps the slow baselines
    out = {"samples": samples, "warmup": warmup, "budget_s": budget_s, "latency": {}}
    for tr in TRANSPORTS:
        out["latency"][tr] = run_latency(tr, PAYLOADS, samples, warmup, budget_s, ctx)
        for r in out["latency"][tr]:
            print(f"{tr:14s} {r['payload']:18s} median {r['median_ns'] / 1e3:9.1f} us   "
                  f"p99 {r['p99_ns'] / 1e3:9.1f} us   (n={r['n']})", file=sys.stderr, flush=True)
    out["wake"] = run_wake(200 if quick else 2000, 0.001, ctx)
    print(f"wake           median {out['wake']['median_ns'] / 1e3:.1f} us  p99 {out['wake']['p99_ns'] / 1e3:.1f} us",
          file=sys.stderr, flush=True)
    out["throughput_s"] = 0.1 if quick else 1.0
    out["throughput"] = run_throughput(PAYLOADS, out["throughput_s"], ctx)
    return out


# ------------------------------------------------------------------ report
def _us(ns):
    return f"{ns / 1e3:.1f}" if ns < 1e7 else f"{ns / 1e3:,.0f}"


def markdown(res: dict) -> str:
    lat = res["latency"]
    lines = ["One-way latency, µs (median / p99), RTT/2 of a cross-process ping-pong; "
             "receiver touches one byte per 4 KiB page (horus_notouch: no touch, no to_numpy()).", "",
             "| payload | " + " | ".join(TRANSPORTS) + " | mp_queue / horus | shm_memcpy / horus |",
             "|---|" + "---:|" * (len(TRANSPORTS) + 2)]
    for i, (label, _, _) in enumerate(PAYLOADS):
        cells = [f"{_us(lat[t][i]['median_ns'])} / {_us(lat[t][i]['p99_ns'])}" for t in TRANSPORTS]
        h = lat["horus"][i]["median_ns"]
        lines.append(f"| {label} | " + " | ".join(cells) +
                     f" | {lat['mp_queue'][i]['median_ns'] / h:.1f}x | {lat['shm_memcpy'][i]['median_ns'] / h:.1f}x |")
    lines += ["", "Samples per cell: " + ", ".join(
        f"{t}: {min(r['n'] for r in lat[t])}–{max(r['n'] for r in lat[t])}" for t in TRANSPORTS) +
        f" (up to {res['samples']}, time-capped at {res['budget_s']} s per cell after a warm-up)."]
    w = res["wake"]
    lines += ["", f"Blocking `recv(timeout=1)` wake latency (send → recv returns, receiver asleep, "
                  f"one send every {w['gap_ms']:.0f} ms): median {_us(w['median_ns'])} µs, "
                  f"p99 {_us(w['p99_ns'])} µs (n={w['n']})."]
    lines += ["", f"Throughput, one-way horus (publisher re-sends one message back to back for "
                  f"{res['throughput_s']} s; the subscriber "
                  "polls try_recv(); ring capacity 64, a publisher never waits):", "",
              "| payload | send rate | delivered rate | delivered / sent | dropped |", "|---|---:|---:|---:|---:|"]
    for r in res["throughput"]:
        lines.append(f"| {r['payload']} | {r['send_rate']:,.0f} msg/s | {r['delivered_rate']:,.0f} msg/s | "
                     f"{r['delivered']:,} / {r['sent']:,} | {r['dropped']:,} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--samples", type=int)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    res = run(args.quick, args.samples)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
