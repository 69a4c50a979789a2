"""transports.py — one adapter per transport for the side-by-side comparison (bench/compare).

Every adapter gives both processes of a ping-pong pair the same five operations:

    make(seq)    a message of the payload size that this side is about to send,
                 obtained the transport's natural way (zero-copy transports: a
                 fresh shared-memory loan/allocation; copying transports: one of a
                 few reused NumPy arrays, which the transport then copies), with
                 the 8-byte sequence number written at offset 0 — nothing else of
                 the payload is written (data generation is not measured)
    send(msg)    publish it
    recv(t)      the next message, waiting up to t seconds (None on timeout)
    u8(obj)      a flat uint8 NumPy view of the received payload (no copy where
                 the transport allows it)
    torch(obj)   the payload as a torch tensor in its natural shape, the way a user
                 of that transport gets one (to_torch()/torch() where the library
                 has it, else torch.from_numpy/frombuffer of what it delivers)

Which interpreter runs an adapter is set by `venv` below: horus from the project's
.venv (it needs the project's build), the peers from .venv-bench. HorusCpp/HorusCppSpin
(`native = True`) only name the C++ rows: their worker is cpp/horus_worker.cpp.
"""
from __future__ import annotations

import ctypes
import json
import os
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore", message=".*not writable.*")
warnings.filterwarnings("ignore", message=".*non-writable.*")

# ---------------------------------------------------------------- payloads
# (key, label, kind, shape, dtype)
PAYLOADS = [
    ("64B", "64 B tensor", "tensor", (64,), "uint8"),
    ("4KB", "4 KB tensor", "tensor", (4096,), "uint8"),
    ("vga", "640x480x3 image", "image", (480, 640, 3), "uint8"),
    ("1080p", "1920x1080x3 image", "image", (1080, 1920, 3), "uint8"),
    ("cloud", "100k XYZI cloud", "cloud", (100000, 4), "float32"),
    ("8MiB", "8 MiB tensor", "tensor", (2048, 1024), "float32"),
]
PAYLOAD_BY_KEY = {p[0]: p for p in PAYLOADS}


def nbytes_of(p) -> int:
    return int(np.prod(p[3])) * np.dtype(p[4]).itemsize


# Messages in flight at most (throughput window); rings/pools are sized above it.
WINDOW = 16
ROTATE = 2 * WINDOW  # reused arrays of the copying transports / hand-rolled shm slots


def write_seq(u8: np.ndarray, seq: int) -> None:
    u8[:8].view(np.uint64)[0] = seq


def read_seq(u8: np.ndarray) -> int:
    return int(u8[:8].view(np.uint64)[0])


def _torch():
    import torch

    return torch


def run_pair(procs, q, timeout):
    """Starts the two role processes of one transport ("b" then "a"), collects the JSON result
    each puts on `q` (by role) until both came, both died or `timeout` seconds passed, then
    joins them (killing any that hangs). Returns {role: result}."""
    import queue

    for pr in procs:
        pr.start()
    got = {}
    deadline = time.time() + timeout
    while len(got) < 2 and time.time() < deadline:
        try:
            r = json.loads(q.get(timeout=1.0))
            got[r["role"]] = r
        except queue.Empty:
            if all(not pr.is_alive() for pr in procs) and q.empty():
                break
    for pr in procs:
        pr.join(timeout=5)
        if pr.is_alive():
            pr.kill()
    return got


def poll(fetch, timeout, check_every=1024):
    """Calls fetch() until it returns a message (returned) or `timeout` seconds pass (None).

    For the receivers that poll. The clock is read once every `check_every` calls, so the
    loop costs one fetch() per turn."""
    m = fetch()
    if m is not None:
        return m
    end = time.perf_counter() + timeout
    n = 0
    while True:
        m = fetch()
        if m is not None:
            return m
        n += 1
        if n % check_every == 0 and time.perf_counter() > end:
            return None


class Rotating:
    """ROTATE reused NumPy arrays (copying transports may still be sending the previous one)."""

    def __init__(self, p):
        self.arrs = [np.zeros(p[3], dtype=p[4]) for _ in range(ROTATE)]
        self.u8s = [a.reshape(-1).view(np.uint8) for a in self.arrs]
        self.i = 0

    def next(self, seq):
        self.i = (self.i + 1) % ROTATE
        write_seq(self.u8s[self.i], seq)
        return self.arrs[self.i]


# ---------------------------------------------------------------- horus (this project)
class HorusPy:
    """horus Python API: Topic per direction, fresh pool message per send, blocking recv
    (polls up to HORUS_RECV_SPIN_US, then futex sleep)."""

    name = "horus"
    venv = "main"
    spin = False

    @staticmethod
    def parent_setup(p, tag):
        return None

    def __init__(self, role, p, shared, tag):
        import horus

        self.h = horus
        self.p = p
        kind = p[2]
        self.cls = {"tensor": horus.Tensor, "image": horus.Image, "cloud": horus.PointCloud}[kind]
        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")
        # same depth as the iceoryx2 subscriber buffer; HORUS_CMP_CAPACITY overrides
        # (experiments: a ring keeps its last `cap` messages' blocks alive)
        cap = int(os.environ.get("HORUS_CMP_CAPACITY", 2 * WINDOW))
        self.tx = horus.Topic(self.cls, f"cmp.{tag}.{p[0]}.{out}", capacity=cap)
        self.rx = horus.Topic(self.cls, f"cmp.{tag}.{p[0]}.{inp}", capacity=cap)
        shape, dtype = p[3], p[4]
        if kind == "tensor":
            self._new = lambda: horus.Tensor(shape, dtype)
        elif kind == "image":
            self._new = lambda: horus.Image(height=shape[0], width=shape[1], encoding="rgb8")
        else:
            self._new = lambda: horus.PointCloud(shape[0], fields=shape[1], dtype=dtype)

    def make(self, seq):
        m = self._new()
        write_seq(m.to_numpy().reshape(-1).view(np.uint8), seq)
        return m

    def send(self, m):
        self.tx.send(m)

    def recv(self, timeout):
        return self.rx.recv(timeout=timeout)

    def u8(self, m):
        return m.to_numpy().reshape(-1).view(np.uint8)

    def torch(self, m):
        return m.to_torch()

    def close(self):
        pass


class HorusPySpin(HorusPy):
    """Same as horus but the receiver polls try_recv (like the peers that have no blocking receive)."""

    name = "horus-spin"
    spin = True

    def recv(self, timeout):
        return poll(self.rx.try_recv, timeout)


# ---------------------------------------------------------------- horus C++ API (native worker)
class HorusCpp:
    """horus C++ API: Topic<Image|PointCloud|Tensor> per direction, fresh pool message per send,
    blocking Topic::recv(timeout) (polls up to HORUS_RECV_SPIN_US, then futex sleep).

    Not a Python adapter: run.py launches the native worker build/compare/horus_worker
    (bench/compare/cpp/horus_worker.cpp, a C++ port of worker.py + HorusPy) with the same
    arguments as worker.py, and it prints the same JSON. No framework hop (no torch in C++)."""

    name = "horus-cpp"
    venv = None
    native = True
    spin = False


class HorusCppSpin(HorusCpp):
    """Same as horus-cpp but the receiver polls try_recv() (like horus-spin)."""

    name = "horus-cpp-spin"
    spin = True


# ---------------------------------------------------------------- horus-robotics (PyPI)
class HorusRobotics:
    """horus-robotics (PyPI, Rust/PyO3): Topic(Image|PointCloud|Tensor), fresh message per send.

    Its Topic.recv() does not block, so the receiver polls it (spin)."""

    name = "horus-robotics"
    venv = "bench"
    spin = True

    @staticmethod
    def parent_setup(p, tag):
        return None

    def __init__(self, role, p, shared, tag):
        import horus  # the horus-robotics package (same import name, other venv)

        self.h = horus
        self.p = p
        kind = p[2]
        cls = {"tensor": horus.Tensor, "image": horus.Image, "cloud": horus.PointCloud}[kind]
        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")
        self.tx = horus.Topic(cls, 2 * WINDOW, endpoint=f"cmp_{tag}_{p[0]}_{out}")
        self.rx = horus.Topic(cls, 2 * WINDOW, endpoint=f"cmp_{tag}_{p[0]}_{inp}")
        shape, dtype = list(p[3]), p[4]
        self.kind = kind
        if kind == "tensor":
            self._new = lambda: horus.Tensor.empty(shape, dtype)
        elif kind == "image":
            self._new = lambda: horus.Image(shape[0], shape[1], "rgb8")
        else:
            self._new = lambda: horus.PointCloud(shape[0], shape[1], dtype)

    def _np(self, m):
        return m.numpy() if self.kind == "tensor" else m.to_numpy()

    def make(self, seq):
        m = self._new()
        a = self._np(m)
        write_seq(a.reshape(-1).view(np.uint8), seq)
        return m

    def send(self, m):
        self.tx.send(m)

    def recv(self, timeout):
        return poll(self.rx.recv, timeout)

    def u8(self, m):
        return self._np(m).reshape(-1).view(np.uint8)

    def torch(self, m):
        # (Tensor.torch() raises "TypeError: builtins.Tensor is not a sequence" in
        # horus-robotics 0.4.1, so tensors go through numpy() like images do.)
        return _torch().from_numpy(self._np(m))

    def close(self):
        pass


# ---------------------------------------------------------------- iceoryx2
class Iceoryx2:
    """iceoryx2 Python binding: Slice[c_uint8] publish/subscribe, loaned samples, receiver polls."""

    name = "iceoryx2"
    venv = "bench"
    spin = True

    @staticmethod
    def parent_setup(p, tag):
        return None

    def __init__(self, role, p, shared, tag):
        import iceoryx2 as iox2

        iox2.set_log_level(iox2.LogLevel.Error)
        self.n = nbytes_of(p)
        self.p = p
        self.node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")

        def svc(d):
            return (
                self.node.service_builder(iox2.ServiceName.new(f"cmp/{tag}/{p[0]}/{d}"))
                .publish_subscribe(iox2.Slice[ctypes.c_uint8])
                .subscriber_max_buffer_size(2 * WINDOW)
                .subscriber_max_borrowed_samples(4)
                .history_size(0)
                .enable_safe_overflow(False)
                .open_or_create()
            )

        self.s_out, self.s_in = svc(out), svc(inp)
        self.pub = (
            self.s_out.publisher_builder()
            .initial_max_slice_len(self.n)
            .max_loaned_samples(4)
            .create()
        )
        self.sub = self.s_in.subscriber_builder().create()

    def make(self, seq):
        s = self.pub.loan_slice_uninit(self.n)
        u8 = np.frombuffer(s.payload().as_memory_view(), dtype=np.uint8)
        write_seq(u8, seq)
        return s.assume_init()

    def send(self, s):
        s.send()

    def recv(self, timeout):
        return poll(self.sub.receive, timeout)

    def u8(self, s):
        return np.frombuffer(s.payload().as_memory_view(), dtype=np.uint8)

    def torch(self, s):
        torch = _torch()
        t = torch.frombuffer(s.payload().as_memory_view(), dtype=getattr(torch, self.p[4]))
        return t.reshape(self.p[3])

    def close(self):
        pass


# ---------------------------------------------------------------- pyzmq
class Zmq:
    """pyzmq PAIR socket over ipc:// (copy=False sends: zero-copy above pyzmq's copy threshold)."""

    name = "pyzmq-ipc"
    venv = "bench"
    spin = False

    @staticmethod
    def parent_setup(p, tag):
        return None

    def __init__(self, role, p, shared, tag):
        import zmq

        self.zmq = zmq
        self.p = p
        self.ctx = zmq.Context()
        self.s = self.ctx.socket(zmq.PAIR)
        addr = f"ipc:///tmp/horus-cmp-{tag}-{p[0]}.ipc"
        if role == "a":
            self.s.bind(addr)
        else:
            self.s.connect(addr)
        self.rot = Rotating(p)

    def make(self, seq):
        return self.rot.next(seq)

    def send(self, a):
        self.s.send(a, copy=False)

    def recv(self, timeout):
        if self.s.poll(int(timeout * 1000)) == 0:
            return None
        return self.s.recv(copy=False)

    def u8(self, f):
        return np.frombuffer(f.buffer, dtype=np.uint8)

    def torch(self, f):
        a = np.frombuffer(f.buffer, dtype=self.p[4]).reshape(self.p[3])
        return _torch().from_numpy(a)

    def close(self):
        # (no ctx.term(): it can block on copy=False frames pyzmq still tracks;
        # the context goes away with the process)
        self.s.close(linger=5000)  # linger: the last reply may still be queued


# ---------------------------------------------------------------- multiprocessing.Queue
class MpQueue:
    """multiprocessing.Queue of NumPy arrays (pickled through a pipe)."""

    name = "mp.Queue"
    venv = "bench"
    spin = False

    @staticmethod
    def parent_setup(p, tag):
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        return (ctx.Queue(), ctx.Queue())

    def __init__(self, role, p, shared, tag):
        q1, q2 = shared
        self.tx, self.rx = (q1, q2) if role == "a" else (q2, q1)
        self.rot = Rotating(p)

    def make(self, seq):
        return self.rot.next(seq)

    def send(self, a):
        self.tx.put(a)

    def recv(self, timeout):
        import queue

        try:
            return self.rx.get(timeout=timeout)
        except queue.Empty:
            return None

    def u8(self, a):
        return a.reshape(-1).view(np.uint8)

    def torch(self, a):
        return _torch().from_numpy(a)

    def close(self):
        pass


# ---------------------------------------------------------------- shared_memory + Pipe
class MpShm:
    """Hand-rolled: multiprocessing.shared_memory ring (ROTATE slots per direction) + Pipe carrying the slot index.

    No ownership protocol: a slot is simply reused ROTATE messages later (safe here
    because at most WINDOW messages are in flight) — what people write by hand."""

    name = "mp.shm+Pipe"
    venv = "bench"
    spin = False

    @staticmethod
    def parent_setup(p, tag):
        import multiprocessing as mp
        from multiprocessing import shared_memory

        n = nbytes_of(p)
        size = max(n, 64)
        size = (size + 4095) // 4096 * 4096
        ctx = mp.get_context("fork")
        a, b = ctx.Pipe(duplex=True)
        r1 = shared_memory.SharedMemory(create=True, size=size * ROTATE)
        r2 = shared_memory.SharedMemory(create=True, size=size * ROTATE)
        return (a, b, r1.name, r2.name, size, [r1, r2])

    def __init__(self, role, p, shared, tag):
        from multiprocessing import shared_memory

        a, b, n1, n2, size, _keep = shared
        self.p = p
        self.n = nbytes_of(p)
        self.size = size
        self.conn = a if role == "a" else b
        # attach (track=False: the parent owns and unlinks them)
        try:
            s1 = shared_memory.SharedMemory(name=n1, track=False)
            s2 = shared_memory.SharedMemory(name=n2, track=False)
        except TypeError:  # Python < 3.13: no track=
            s1 = shared_memory.SharedMemory(name=n1)
            s2 = shared_memory.SharedMemory(name=n2)
        self.shms = (s1, s2)
        out, inp = (s1, s2) if role == "a" else (s2, s1)
        self.out_u8 = np.ndarray((size * ROTATE,), dtype=np.uint8, buffer=out.buf)
        self.in_u8 = np.ndarray((size * ROTATE,), dtype=np.uint8, buffer=inp.buf)
        self.i = 0

    def make(self, seq):
        self.i = (self.i + 1) % ROTATE
        off = self.i * self.size
        write_seq(self.out_u8[off : off + 8], seq)
        return self.i

    def send(self, slot):
        self.conn.send_bytes(slot.to_bytes(4, "little"))

    def recv(self, timeout):
        if not self.conn.poll(timeout):
            return None
        slot = int.from_bytes(self.conn.recv_bytes(), "little")
        off = slot * self.size
        return self.in_u8[off : off + self.n]

    def u8(self, v):
        return v

    def torch(self, v):
        return _torch().from_numpy(v.view(self.p[4]).reshape(self.p[3]))

    def close(self):
        self.out_u8 = self.in_u8 = None


# ---------------------------------------------------------------- zenoh
class Zenoh:
    """eclipse-zenoh pub/sub, two peers connected over tcp/127.0.0.1 (no scouting); receiver polls try_recv."""

    name = "zenoh"
    venv = "bench"
    spin = True
    use_shm = False

    @staticmethod
    def parent_setup(p, tag):
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def __init__(self, role, p, shared, tag):
        import zenoh

        self.z = zenoh
        self.p = p
        self.n = nbytes_of(p)
        conf = zenoh.Config()
        conf.insert_json5("mode", '"peer"')
        conf.insert_json5("scouting/multicast/enabled", "false")
        ep = f'["tcp/127.0.0.1:{shared}"]'
        if role == "a":
            conf.insert_json5("listen/endpoints", ep)
        else:
            conf.insert_json5("connect/endpoints", ep)
        if self.use_shm:
            conf.insert_json5("transport/shared_memory/enabled", "true")
        self.sess = zenoh.open(conf)
        out, inp = ("ping", "pong") if role == "a" else ("pong", "ping")
        self.pub = self.sess.declare_publisher(
            f"cmp/{tag}/{p[0]}/{out}", congestion_control=zenoh.CongestionControl.BLOCK
        )
        self._last = self._last_b = None
        self.sub = self.sess.declare_subscriber(f"cmp/{tag}/{p[0]}/{inp}")
        self.rot = Rotating(p)
        if self.use_shm:
            import zenoh.shm as zshm

            self.zshm = zshm
            self.provider = zshm.ShmProvider.default_backend(max(self.n, 4096) * (ROTATE + 8))
            self.policy = zshm.BlockOn(zshm.GarbageCollect())

    def make(self, seq):
        if self.use_shm:
            buf = self.provider.alloc(self.n, self.policy)
            buf[0:8] = seq.to_bytes(8, "little")
            return buf
        return self.rot.next(seq)

    def send(self, a):
        if self.use_shm:
            self.pub.put(a)
        else:
            self.pub.put(a.tobytes())  # zenoh's Python put takes bytes: one copy

    def recv(self, timeout):
        return poll(self.sub.try_recv, timeout, check_every=256)

    def _bytes(self, m):
        # Python has no buffer view of a received ZBytes/ZShm: bytes() copies
        # (once per message: cached for the u8()/torch() calls on the same sample).
        if self._last is not m:
            self._last, self._last_b = m, m.payload.to_bytes()
        return self._last_b

    def u8(self, m):
        return np.frombuffer(self._bytes(m), dtype=np.uint8)

    def torch(self, m):
        a = np.frombuffer(self._bytes(m), dtype=self.p[4]).reshape(self.p[3])
        return _torch().from_numpy(a)

    def close(self):
        try:
            self.sess.close()
        except Exception:
            pass


class ZenohShm(Zenoh):
    """zenoh with its shared-memory provider (ZShmMut loans) — sender zero-copy, receiver copies (no buffer view in Python)."""

    name = "zenoh-shm"
    use_shm = True


TRANSPORTS = [HorusPy, HorusPySpin, HorusCpp, HorusCppSpin, HorusRobotics, Iceoryx2, Zmq, MpQueue, MpShm, Zenoh, ZenohShm]
BY_NAME = {t.name: t for t in TRANSPORTS}
