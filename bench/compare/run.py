#!/usr/bin/env python3
"""run.py — horus side by side with the transports a user would pick instead (issue 5).

    python3 bench/compare/run.py            # full run (by hand, 5 rounds): results in bench/results/
    python3 bench/compare/run.py --quick    # CI smoke run (2 rounds, < 60 s), results in /tmp/horus-compare-quick/

Installs the peers into .venv-bench (setup_venv.sh), then for every round and every
transport (order reversed on odd rounds, so all transports see the same machine
conditions) runs worker.py with the transport's interpreter (horus: .venv,
peers: .venv-bench), or for the C++ rows (horus-cpp, horus-cpp-spin) the native
worker build/compare/horus_worker (`make bench-compare-build`; same arguments, same
schedule, same JSON). A worker forks a ping and a pong process pinned to two
different cores. A transport that cannot be installed, imported or run gets a row
with the error text. Writes <date>-<host>-compare.{md,csv,json} and two PNG plots.

Typed messages (typed.py): in the same rounds, after the buffer transports, the CmdVel and
10-key-dict rows (horus, horus-cpp, horus-robotics, iceoryx2; typed.py's worker, or the C++
worker with --payloads cmdvel) and the CmdVel construction micro-benchmark (one interpreter
per venv); the report's "Typed messages" section has their ratios and goals.

Every ratio (peer median / horus median) comes with its spread over the rounds (the
per-round ratios: peer's round-i median / horus's round-i median) and a verdict
(verdicts.py): "ahead" only where every round has horus faster, "behind" only where every
round has it slower, else "mixed/within noise". The summary line uses the verdicts.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import fnmatch
import json
import os
import platform
import shutil
import socket
import statistics as st
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import transports as T  # noqa: E402  (numpy only; importable from any venv)
import typed as TY  # noqa: E402  (numpy only; the typed-message rows)
import verdicts as V  # noqa: E402  (pure Python)

VENVS = {"main": os.path.join(ROOT, ".venv"), "bench": os.path.join(ROOT, ".venv-bench")}
CPP_WORKER = os.path.join(ROOT, "build", "compare", "horus_worker")  # make bench-compare-build
IMPORTS = {
    "horus": "import horus, torch; horus.Topic",
    "horus-spin": "import horus, torch; horus.Topic",
    "horus-robotics": "import horus, torch; horus.Topic; horus.TensorPool",
    "iceoryx2": "import iceoryx2, torch",
    "pyzmq-ipc": "import zmq, torch",
    "mp.Queue": "import multiprocessing, torch",
    "mp.shm+Pipe": "import multiprocessing.shared_memory, torch",
    "zenoh": "import zenoh, torch",
    "zenoh-shm": "import zenoh, zenoh.shm, torch",
}
PIP_NAME = {"horus-robotics": "horus-robotics", "iceoryx2": "iceoryx2", "pyzmq-ipc": "pyzmq",
            "zenoh": "eclipse-zenoh", "zenoh-shm": "eclipse-zenoh"}
RING = {"horus", "horus-spin", "horus-cpp", "horus-cpp-spin", "horus-robotics", "iceoryx2"}
# horus rows: ratio baselines (peers = every other row)
BASES = ("horus", "horus-spin", "horus-cpp", "horus-cpp-spin")
BASE_DESC = {
    "horus": "Python, blocking `recv(timeout)`: polls up to HORUS_RECV_SPIN_US (50 µs), then futex sleep",
    "horus-spin": "Python, `try_recv` polling, like the peers that have no blocking receive",
    "horus-cpp": "C++ `Topic::recv(timeout)`: polls up to 50 µs, then futex sleep",
    "horus-cpp-spin": "C++ `Topic::try_recv` polling",
}


def is_horus(t):
    return t in BASES  # pools/rings to cycle in warm-up

# Full: 5 interleaved rounds (a verdict needs every round to agree, so a few rounds are not enough
# on a noisy machine); per-round counts and caps are 3/5 of the earlier 3-round schedule, so the
# totals per cell (10,200 latency samples, 24 s latency cap) and the run time stay about the same.
# Quick: 2 rounds, so the CI smoke run goes through the same per-round ratio / verdict code.
FULL = dict(rounds=5, lat_n=2040, lat_cap=4.8, hop_n=300, hop_cap=1.2, thr_n=1920, thr_cap=1.2,
            warm=40, warm_ring=200, warm_cap=0.5, warm_bursts=4, payloads=[p[0] for p in T.PAYLOADS],
            timeout=400)
QUICK = dict(rounds=2, lat_n=100, lat_cap=0.2, hop_n=20, hop_cap=0.1, thr_n=64, thr_cap=0.2,
             warm=8, warm_ring=40, warm_cap=0.0, warm_bursts=1, payloads=["64B", "4KB"], timeout=40)
# Typed messages (typed.py): a round trip is a few µs, so more samples per round for the same
# time; throughput: more messages than the buffer rows (a window of CmdVels takes ~10 µs).
# construct_*: timeit number / repeat of the construction micro-benchmark, per round and venv.
FULL.update(typed_payloads=[p[0] for p in TY.TYPED_PAYLOADS], typed_lat_n=10000, typed_lat_cap=2.0,
            typed_thr_n=16000, typed_thr_cap=1.0, construct_number=50000, construct_repeat=7)
QUICK.update(typed_payloads=[p[0] for p in TY.TYPED_PAYLOADS], typed_lat_n=200, typed_lat_cap=0.2,
             typed_thr_n=320, typed_thr_cap=0.2, construct_number=2000, construct_repeat=3)
# goals of the typed rows (the issue): latency in µs, construction in ns, ratios as x
TYPED_GOALS = dict(cmdvel_us=1.5, cmdvel_vs_robotics=2.0, cmdvel_vs_iceoryx2=1.0, cpp_cmdvel_us=0.150,
                   construct_ns=300.0, dict_us=5.0, dict_vs_robotics=2.0)
TYPED_IMPORTS = {
    "horus": "import horus; horus.CmdVel; horus.Topic",
    "horus-robotics": "import horus; horus.CmdVel; horus.Topic; horus.TensorPool",
    "iceoryx2": "import iceoryx2",
}


def py_of(tname):
    return os.path.join(VENVS[T.BY_NAME[tname].venv], "bin", "python")


def is_native(tname):
    return getattr(T.BY_NAME[tname], "native", False)


def check_transport(tname):
    """None if usable, else the error text (install log, import error, missing C++ worker)."""
    if is_native(tname):
        if not os.access(CPP_WORKER, os.X_OK):
            return f"C++ worker missing: {CPP_WORKER} (build it with `make bench-compare-build`)"
        return None
    py = py_of(tname)
    if not os.path.exists(py):
        return f"interpreter missing: {py}"
    r = subprocess.run([py, "-c", IMPORTS[tname]], capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        return None
    msg = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
    log = os.path.join(VENVS["bench"], f"install-{PIP_NAME.get(tname, '')}.log")
    if tname in PIP_NAME and os.path.exists(log):
        msg.append("pip: " + " | ".join(open(log).read().strip().splitlines()[-3:]))
    return "import failed: " + " ; ".join(msg)


def check_typed(tname):
    """check_transport for the typed rows (typed.TYPED_TRANSPORTS)."""
    cls = TY.TYPED_BY_NAME[tname]
    if getattr(cls, "native", False):
        if not os.access(CPP_WORKER, os.X_OK):
            return f"C++ worker missing: {CPP_WORKER} (build it with `make bench-compare-build`)"
        return None
    py = os.path.join(VENVS[cls.venv], "bin", "python")
    if not os.path.exists(py):
        return f"interpreter missing: {py}"
    r = subprocess.run([py, "-c", TYPED_IMPORTS[tname]], capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        return None
    return "import failed: " + " ; ".join((r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"])


# Files the peers leave in /dev/shm after their processes ended: zenoh's shared-memory
# provider ("<id>.zenoh") and iceoryx2's management files ("iox2_*").
PEER_SHM_PATTERNS = ("*.zenoh", "iox2_*")


def dev_shm_entries():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def clean_namespace(ns, before=None):
    """Frees the shared memory a finished worker left in /dev/shm.

    Worker children end with os._exit (multiprocessing) or are killed, so horus namespaces
    and horus-robotics' /dev/shm/horus_<ns> stay behind; a full run would otherwise fill a
    small /dev/shm (SIGBUS in later rows). horus: the project's own cleaner (`horus clean`,
    skips a namespace a live process still uses); horus-robotics: its directory. With
    `before` (the /dev/shm entries before the worker started), also the peers' files that
    appeared meanwhile (PEER_SHM_PATTERNS); files that were there before are left alone."""
    horus_cli = os.path.join(VENVS["main"], "bin", "horus")
    if os.path.exists(horus_cli):
        subprocess.run([horus_cli, "clean", ns], capture_output=True, timeout=60)
    shutil.rmtree(os.path.join("/dev/shm", "horus_" + ns), ignore_errors=True)
    if before is not None:
        for name in dev_shm_entries() - before:
            if any(fnmatch.fnmatch(name, pat) for pat in PEER_SHM_PATTERNS):
                try:
                    os.unlink(os.path.join("/dev/shm", name))
                except OSError:
                    pass


def run_worker(tname, cfg, tag):
    wcfg = {k: cfg[k] for k in ("lat_n", "lat_cap", "hop_n", "hop_cap", "thr_n", "thr_cap", "warm_cap",
                                 "warm_bursts", "timeout")}
    wcfg["warm"] = cfg["warm_ring"] if tname in RING else cfg["warm"]
    head = [CPP_WORKER] if is_native(tname) else [py_of(tname), os.path.join(HERE, "worker.py")]
    cmd = [*head, "--transport", tname,
           "--payloads", ",".join(cfg["payloads"]), "--tag", tag, "--cfg", json.dumps(wcfg)]
    return run_cmd(cmd, cfg, tag)


def typed_keys(tname, cfg):
    return [k for k in cfg["typed_payloads"] if k in TY.TYPED_BY_NAME[tname].payloads]


def run_typed_worker(tname, cfg, tag):
    """One typed row (typed.py's worker, or the C++ worker with --payloads cmdvel): same JSON."""
    cls = TY.TYPED_BY_NAME[tname]
    wcfg = {"lat_n": cfg["typed_lat_n"], "lat_cap": cfg["typed_lat_cap"], "hop_n": 0, "hop_cap": 0,
            "thr_n": cfg["typed_thr_n"], "thr_cap": cfg["typed_thr_cap"], "warm": cfg["warm_ring"],
            "warm_cap": cfg["warm_cap"], "warm_bursts": cfg["warm_bursts"], "timeout": cfg["timeout"]}
    keys = ",".join(typed_keys(tname, cfg))
    if getattr(cls, "native", False):
        cmd = [CPP_WORKER, "--transport", cls.native_transport]
    else:
        cmd = [os.path.join(VENVS[cls.venv], "bin", "python"), os.path.join(HERE, "typed.py"), "--transport", tname]
    return run_cmd([*cmd, "--payloads", keys, "--tag", tag, "--cfg", json.dumps(wcfg)], cfg, tag)


def run_construct(venv, cfg):
    """The construction micro-benchmark of one venv's rows: {row: {"ns": ...} | {"error": ...}}."""
    cmd = [os.path.join(VENVS[venv], "bin", "python"), os.path.join(HERE, "typed.py"), "--construct", venv,
           "--number", str(cfg["construct_number"]), "--repeat", str(cfg["construct_repeat"])]
    names = [c[0] for c in TY.CONSTRUCT if c[1] == venv]
    ns = f"cmpc{os.getpid() % 100000}{venv}"  # (nothing is sent; a namespace of its own all the same)
    before = dev_shm_entries()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=HERE,
                           env=dict(os.environ, HORUS_NAMESPACE=ns, PYTHONWARNINGS="ignore"))
    except subprocess.TimeoutExpired:
        return {n: {"error": "timed out"} for n in names}
    finally:
        clean_namespace(ns, before)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        err = f"exit {r.returncode}: " + (r.stderr.strip()[-400:] or "no output")
        return {n: {"error": err} for n in names}
    return json.loads(lines[-1])["construct"]


def run_cmd(cmd, cfg, tag):
    env = dict(os.environ, HORUS_NAMESPACE=f"cmp{tag}", PYTHONWARNINGS="ignore")
    before = dev_shm_entries()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=cfg["timeout"] + 60, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        return {"error": f"worker timed out after {e.timeout} s"}
    finally:
        clean_namespace(f"cmp{tag}", before)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": f"worker exit {r.returncode}: " + (r.stderr.strip()[-600:] or "no output")}
    d = json.loads(lines[-1])
    if not d.get("a") or not d.get("b"):
        d["error"] = f"a process died (exit codes {d.get('exitcodes')}): " + r.stderr.strip()[-600:]
    return d


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    i = min(len(xs) - 1, max(0, int(round(q / 100.0 * (len(xs) - 1)))))
    return xs[i]


def aggregate(raw, cfg, keys_of=None, nbytes=None):
    """raw[t][round] = worker output -> rows[t][payload] = stats.

    round_medians_us[i] is round i's median (None where that round has no samples), so the
    rounds of two transports line up for the per-round ratios; round_msgs_per_s likewise.
    keys_of(t): the payload keys of transport t (default cfg["payloads"]); nbytes(key): the
    payload's size (default the buffer payloads')."""
    keys_of = keys_of or (lambda t: cfg["payloads"])
    nbytes = nbytes or (lambda k: T.nbytes_of(T.PAYLOAD_BY_KEY[k]))
    rows = {}
    for tname, runs in raw.items():
        rows[tname] = {}
        for key in keys_of(tname):
            nb = nbytes(key)
            one, hop, rmed, thr, cs, cr, la, lb, errs = [], [], [], [], [], [], [], [], []
            rthr = []
            for d in runs:
                if d.get("error") and not d.get("a"):
                    errs.append(d["error"])
                    rmed.append(None)
                    rthr.append(None)
                    continue
                a = (d.get("a") or {}).get("payloads", {}).get(key, {})
                b = (d.get("b") or {}).get("payloads", {}).get(key, {})
                if "error" in a or "error" in b:
                    errs.append(a.get("error") or b.get("error"))
                if not a.get("rtt_ns"):
                    rmed.append(None)
                else:
                    o = [x / 2000.0 for x in a["rtt_ns"]]  # one-way us
                    one += o
                    rmed.append(st.median(o))
                    n = len(a["rtt_ns"])
                    if "lat_cpu_b_s" in b:
                        la.append(a["lat_cpu_a_s"] / n * 1e6)
                        lb.append(b["lat_cpu_b_s"] / n * 1e6)
                if a.get("hop_rtt_ns"):
                    hop += [x / 2000.0 for x in a["hop_rtt_ns"]]
                if a.get("thr_msgs"):
                    thr.append(a["thr_msgs"] / a["thr_s"])
                    rthr.append(thr[-1])
                    cs.append(a["thr_cpu_a_s"] / a["thr_msgs"] * 1e6)
                    if b.get("thr_msgs_b"):
                        cr.append(b["thr_cpu_b_s"] / b["thr_msgs_b"] * 1e6)
                else:
                    rthr.append(None)
            r = {"n": len(one), "bytes": nb}
            if one:
                r.update(median_us=st.median(one), p99_us=pct(one, 99), p999_us=pct(one, 99.9),
                         round_medians_us=rmed)
            if hop:
                r["hop_median_us"] = st.median(hop)
                r["hop_n"] = len(hop)
            if thr:
                m = st.median(thr)
                r.update(msgs_per_s=m, gb_per_s=m * nb / 1e9, round_msgs_per_s=rthr)
            if cs:
                r["cpu_send_us_per_msg"] = st.median(cs)
            if cr:
                r["cpu_recv_us_per_msg"] = st.median(cr)
            if la:
                r["cpu_rt_a_us"] = st.median(la)
                r["cpu_rt_b_us"] = st.median(lb)
            if errs and not one:
                r["error"] = errs[0]
            elif errs:
                r["warning"] = errs[0]
            rows[tname][key] = r
    return rows


def machine_info():
    info = {"date": dt.datetime.now().isoformat(timespec="seconds"), "host": socket.gethostname(),
            "kernel": platform.release(), "python": platform.python_version()}
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                info["cpu"] = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cores_online"] = os.cpu_count()
    info["cores_usable"] = len(os.sched_getaffinity(0))
    vers = {}
    for venv, mods in (("main", ["horus", "numpy", "torch"]),
                       ("bench", ["horus-robotics", "iceoryx2", "pyzmq", "eclipse-zenoh", "torch", "numpy"])):
        py = os.path.join(VENVS[venv], "bin", "python")
        code = ("import importlib.metadata as m,json,sys\nout={}\n"
                "for n in sys.argv[1:]:\n  try: out[n]=m.version(n)\n  except Exception as e: out[n]='missing'\n"
                "print(json.dumps(out))")
        try:
            r = subprocess.run([py, "-c", code, *mods], capture_output=True, text=True, timeout=60)
            vers[venv] = json.loads(r.stdout)
        except Exception as e:  # noqa: BLE001
            vers[venv] = {"error": str(e)}
    info["versions"] = vers
    try:  # how the C++ worker was built (build/compare/CMakeCache.txt)
        cache = dict(ln.split("=", 1) for ln in open(os.path.join(os.path.dirname(CPP_WORKER), "CMakeCache.txt"))
                     if ln.startswith(("CMAKE_CXX_COMPILER:", "CMAKE_BUILD_TYPE:")))
        cxx = cache.get("CMAKE_CXX_COMPILER:FILEPATH", "?").strip()
        ver = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()
        info["cpp_worker"] = (f"build/compare/horus_worker, {cache.get('CMAKE_BUILD_TYPE:STRING', '?').strip()}, "
                              f"{ver[0] if ver else cxx}")
    except Exception:  # noqa: BLE001
        pass
    return info


def fmt(x, nd=1):
    if x is None or x != x:
        return "—"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x < 1:  # sub-µs C++ rows
        return f"{x:.2f}"
    return f"{x:.{nd}f}"


def ratios(rows, cfg):
    """Peer median / horus median per payload (> 1: horus faster)."""
    out = {}
    for base in BASES:
        if base not in rows:
            continue
        out[base] = {}
        for t, pr in rows.items():
            if is_horus(t):
                continue
            out[base][t] = {}
            for k in cfg["payloads"]:
                hb, pe = rows[base][k].get("median_us"), pr[k].get("median_us")
                out[base][t][k] = (pe / hb) if hb and pe else None
    return out


def ratio_cells(rows, rat, cfg):
    """cells[base][peer][payload] = verdicts.cell(): the ratio of ratios() with the per-round
    ratios (round i of the peer / round i of the baseline), their min-max and the verdict."""
    out = {}
    for base, tab in rat.items():
        out[base] = {}
        for t, pr in tab.items():
            out[base][t] = {k: V.cell(rows[base][k].get("round_medians_us") or [],
                                      rows[t][k].get("round_medians_us") or [], ratio=pr[k])
                            for k in cfg["payloads"]}
    return out


# ---------------------------------------------------------------- typed messages (typed.py)
TYPED_LABELS = {p[0]: p[1] for p in TY.TYPED_PAYLOADS}
TYPED_BASES = {
    "horus": "Python: `horus.CmdVel` on `horus.Topic(horus.CmdVel, name)`, dicts on `horus.Topic(name)`; "
             "`try_recv` polling",
    "horus-cpp": "C++: `horus::Topic<horus::msg::CmdVel>`, `try_recv` polling",
}
TYPED_PEERS = ("horus-robotics", "iceoryx2")
CONSTRUCT_PREFIX = {"horus-robotics": "horus-robotics", "iceoryx2": "iceoryx2 ctypes"}
# ratio columns: key -> label (latency and construction: peer / horus; throughput: horus / peer)
TYPED_COLS = {
    "cmdvel": "CmdVel latency",
    "dict": "10-key dict latency",
    "cmdvel_thr": "CmdVel msgs/s (horus / peer)",
    "construct": "CmdVel(): horus keywords vs peer positional",
    "construct_pos": "CmdVel(): positional both",
    "construct_kw": "CmdVel(): keywords both",
}
KW, POS = "CmdVel(linear=1.0, angular=0.5)", "CmdVel(1.0, 0.5)"


def typed_aggregate(raw_typed, raw_construct, cfg):
    """rows[t][key] as aggregate() gives them (only the keys t supports), and the construction
    rows {name: {"ns": min over rounds, "round_ns": [per-round min], "error"}}."""
    rows = aggregate(raw_typed, cfg, keys_of=lambda t: typed_keys(t, cfg),
                     nbytes=lambda k: TY.TYPED_PAYLOAD_BY_KEY[k][2] or 0)
    construct = {}
    for name, *_ in TY.CONSTRUCT:
        per, errs = [], []
        for rnd in raw_construct:
            x = rnd.get(name) or {}
            per.append(x.get("ns"))
            if x.get("error"):
                errs.append(x["error"])
        ok = [v for v in per if v is not None]
        if raw_construct:
            construct[name] = {"ns": min(ok) if ok else None, "round_ns": per,
                               "error": errs[0] if errs else None}
    return rows, construct


def typed_cells(rows, construct):
    """cells[base][peer][col] = verdicts.cell() for the TYPED_COLS (where both sides have the row)."""
    out = {}
    for base in TYPED_BASES:
        if base not in rows:
            continue
        out[base] = {}
        for peer in TYPED_PEERS:
            if peer not in rows:
                continue
            c = {}
            for k in ("cmdvel", "dict"):
                hb, pe = rows[base].get(k), rows[peer].get(k)
                if hb is None or pe is None:
                    continue
                ratio = pe["median_us"] / hb["median_us"] if hb.get("median_us") and pe.get("median_us") else None
                c[k] = V.cell(hb.get("round_medians_us") or [], pe.get("round_medians_us") or [], ratio=ratio)
            hb, pe = rows[base].get("cmdvel"), rows[peer].get("cmdvel")
            if hb is not None and pe is not None:
                ratio = hb["msgs_per_s"] / pe["msgs_per_s"] if hb.get("msgs_per_s") and pe.get("msgs_per_s") else None
                # higher is better: the "base" of the cell is the peer, so the ratio is horus / peer
                c["cmdvel_thr"] = V.cell(pe.get("round_msgs_per_s") or [], hb.get("round_msgs_per_s") or [],
                                         ratio=ratio)
            if base == "horus" and construct:
                pre = CONSTRUCT_PREFIX[peer]
                for col, (bn, pn) in (("construct", (f"horus {KW}", f"{pre} {POS}")),
                                      ("construct_pos", (f"horus {POS}", f"{pre} {POS}")),
                                      ("construct_kw", (f"horus {KW}", f"{pre} {KW}"))):
                    b, p = construct.get(bn) or {}, construct.get(pn) or {}
                    ratio = p["ns"] / b["ns"] if b.get("ns") and p.get("ns") else None
                    c[col] = V.cell(b.get("round_ns") or [], p.get("round_ns") or [], ratio=ratio)
            out[base][peer] = c
    return out


def typed_goals(rows, cells, construct):
    """The issue's goals, each checked on the pooled number and on every round (verdicts.goal)."""
    G = TYPED_GOALS
    goals = []

    def lat(t, k, what, target):
        r = (rows.get(t) or {}).get(k) or {}
        goals.append((what, " µs", V.goal(r.get("median_us"), r.get("round_medians_us") or [], target, True)))

    def rat(t, peer, k, what, target):
        c = ((cells.get(t) or {}).get(peer) or {}).get(k) or {}
        goals.append((what, "×", V.goal(c.get("ratio"), c.get("round_ratios") or [], target, False)))

    lat("horus", "cmdvel", "horus CmdVel one-way latency (Python, polling), median", G["cmdvel_us"])
    rat("horus", "horus-robotics", "cmdvel", "horus CmdVel latency vs horus-robotics CmdVel", G["cmdvel_vs_robotics"])
    rat("horus", "iceoryx2", "cmdvel", "horus CmdVel latency vs iceoryx2 (Python, ctypes struct)",
        G["cmdvel_vs_iceoryx2"])
    lat("horus-cpp", "cmdvel", "horus-cpp CmdVel one-way latency (C++, polling), median", G["cpp_cmdvel_us"])
    b = construct.get(f"horus {KW}") or {}
    goals.append((f"constructing horus.{KW} (timeit, min)", " ns",
                  V.goal(b.get("ns"), b.get("round_ns") or [], G["construct_ns"], True)))
    lat("horus", "dict", "horus 10-key dict one-way latency (schemaless topic), median", G["dict_us"])
    rat("horus", "horus-robotics", "dict", "horus 10-key dict latency vs horus-robotics dict topic",
        G["dict_vs_robotics"])
    return goals


def fmt3(x):
    """µs with ns resolution below 1 µs (the C++ typed rows are ~0.15 µs)."""
    if x is None or x != x:
        return "—"
    return f"{x:.3f}" if x < 1 else fmt(x)


def typed_section(typed, cfg, quick):
    """The report's "Typed messages" section (markdown lines)."""
    rows, cells, construct, goals = typed["rows"], typed["cells"], typed["construct"], typed["goals"]
    L = ["## Typed messages", ""]
    L.append("Small messages instead of buffers (bench/compare/typed.py; method: its docstring). **CmdVel** "
             "(two float32: linear, angular): horus `horus.CmdVel` on `horus.Topic(horus.CmdVel, name)`, "
             "horus-robotics its `CmdVel` on its `Topic(CmdVel, capacity, endpoint=)`, iceoryx2 a `ctypes.Structure` "
             "of two `c_float` on `publish_subscribe(struct)` (`loan_uninit()` → `write_payload(struct)` → `send()`), "
             "horus-cpp `horus::Topic<horus::msg::CmdVel>`. **10-key dict** (3 ints, 3 floats, 2 short strings, "
             "a bool, None): horus `horus.Topic(name)` (schemaless), horus-robotics `Topic(name, capacity)` "
             "(its GenericMessage; it refuses dicts over 4 KB). Every side makes a fresh message per send "
             "(positional constructor arguments for all: `CmdVel(linear, angular)`), the receiver reads both "
             "fields (dict: two entries); the same values for every transport (the sequence number and flags in "
             "the fields). All receivers poll. Same processes, pinning, rounds and schedule as above "
             f"(per round: up to {cfg['typed_lat_n']} latency round trips, {cfg['typed_thr_n']} throughput "
             f"messages in windows of {T.WINDOW}); construction: timeit, {cfg['construct_number']} constructions "
             f"x {cfg['construct_repeat']} repeats per round, min, pinned to the first core, loop overhead included.")
    L.append("")
    L.append("**Goals** (each checked on the pooled number and on every round):")
    L.append("")
    for what, unit, g in goals:
        f = (lambda x: f"{x:.0f}") if unit == " ns" else (lambda x: f"{x:.3f}" if x < 1 else f"{x:.2f}")
        L.append(V.goal_line(what, g, unit, f))
    L.append("")
    L.append(f"Ratios as in the headline (latency and construction: peer / horus; msgs/s: horus / peer; > 1 = horus "
             f"better), [per-round min–max], {VERDICT_RULE}:")
    L.append("")
    for base, tab in cells.items():
        cols = [k for k in TYPED_COLS if any(k in pr for pr in tab.values())]
        L.append(f"Baseline **{base}** ({TYPED_BASES[base]}):")
        L.append("")
        L.append("| peer | " + " | ".join(TYPED_COLS[k] for k in cols) + " |")
        L.append("|---|" + "---|" * len(cols))
        for peer, pr in tab.items():
            L.append(f"| {peer} | " + " | ".join(V.fmt_cell(pr[k]) if k in pr else "n/a" for k in cols) + " |")
        L.append("")
    L += V.summary_lines(V.summarize(cells, lambda k: TYPED_COLS[k]))
    L.append("")
    L.append("| transport | message | n | median µs | p99 µs | p99.9 µs | round medians µs | msgs/s "
             "| CPU send µs/msg | CPU recv µs/msg |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for k in cfg["typed_payloads"]:
        for t, pr in rows.items():
            r = pr.get(k)
            if r is None:
                continue
            if "median_us" not in r:
                L.append(f"| {t} | {TYPED_LABELS[k]} | 0 | FAILED: "
                         f"{str(r.get('error', 'no samples')).replace('|', '/')[:300]} | | | | | | |")
                continue
            flag = "" if quick or r["n"] >= cfg["rounds"] * cfg["typed_lat_n"] else " (time cap or failed round)"
            L.append(f"| {t} | {TYPED_LABELS[k]} | {r['n']}{flag} | {fmt3(r['median_us'])} | {fmt3(r['p99_us'])} | "
                     f"{fmt3(r['p999_us'])} | {', '.join(fmt3(x) for x in r['round_medians_us'])} | "
                     f"{fmt(r.get('msgs_per_s'))} | {fmt3(r.get('cpu_send_us_per_msg'))} | "
                     f"{fmt3(r.get('cpu_recv_us_per_msg'))} |")
    L.append("")
    if construct:
        L.append("| construction (one CmdVel of 1.0, 0.5) | ns, min over rounds | per-round min ns |")
        L.append("|---|---|---|")
        for name, c in construct.items():
            if c.get("ns") is None:
                L.append(f"| {name} | FAILED: {str(c.get('error')).replace('|', '/')[:200]} | |")
                continue
            L.append(f"| `{name}` | {c['ns']:.0f} | " + ", ".join("—" if x is None else f"{x:.0f}"
                                                             for x in c["round_ns"]) + " |")
        L.append("")
    infos = sorted({f"{t} {TYPED_LABELS[k]}: {x}" for t, runs in typed.get("raw", {}).items() for d in runs
                    for side in ("a", "b") for k, o in (((d.get(side) or {}).get("payloads")) or {}).items()
                    if isinstance(o, dict) and o.get("info") for x in [o["info"]]})
    if infos:
        L.append("Backends the peers reported (per process, after the run): " + "; ".join(infos) + ".")
        L.append("")
    if typed.get("errors"):
        for t, e in typed["errors"].items():
            L.append(f"- typed row **{t}** could not run: {e}")
        L.append("")
    warn = [(t, k, r["warning"]) for t, pr in rows.items() for k, r in pr.items() if r.get("warning")]
    for t, k, w in warn:
        L.append(f"- warning: {t} / {TYPED_LABELS[k]}: a round failed: {w}")
    if warn:
        L.append("")
    return L


def make_plots(rows, cfg, info, stem):
    """latency vs payload (log-log, one line per transport) and throughput bars."""
    labels = {p[0]: p[1] for p in T.PAYLOADS}
    day = info["date"][:10]
    plots = {}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        # one colour per transport (the default cycle has 10), C++ rows dashed
        cmap = plt.get_cmap("tab20")
        color = {t: cmap(i % 20) for i, t in enumerate(rows)}
        fig, ax = plt.subplots(figsize=(8, 5.5))
        for t, pr in rows.items():
            pts = sorted((pr[k]["bytes"], pr[k]["median_us"]) for k in cfg["payloads"] if pr[k].get("median_us"))
            xs, ys = [x for x, _ in pts], [y for _, y in pts]
            if xs:
                ax.plot(xs, ys, marker="o", lw=2.5 if is_horus(t) else 1.3, color=color[t],
                        ls="--" if t.startswith("horus-cpp") else "-", label=t)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("payload (bytes)")
        ax.set_ylabel("one-way latency, median of RTT/2 (µs)")
        ax.set_title(f"Latency vs payload — {info['host']} {day}\n(receiver reads 1 byte per 4 KB page)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        plots["latency"] = stem + "-latency.png"
        fig.savefig(plots["latency"], dpi=110)
        plt.close(fig)

        import numpy as np

        ts = list(rows)
        ks = cfg["payloads"]
        fig, ax = plt.subplots(figsize=(10, 5.5))
        wdt = 0.8 / max(1, len(ts))
        for i, t in enumerate(ts):
            ys = [rows[t][k].get("gb_per_s") or 0 for k in ks]
            ax.bar(np.arange(len(ks)) + i * wdt, ys, wdt, label=t, color=color[t],
                   hatch="//" if t.startswith("horus-cpp") else None)
        ax.set_xticks(np.arange(len(ks)) + 0.4 - wdt / 2)
        ax.set_xticklabels([labels[k] for k in ks], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("GB/s of payload made available to the receiver")
        ax.set_title("Throughput (window of 16 messages in flight, receiver touches each)")
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=7, ncol=3)
        fig.tight_layout()
        plots["throughput"] = stem + "-throughput.png"
        fig.savefig(plots["throughput"], dpi=110)
        plt.close(fig)
    except Exception as e:  # noqa: BLE001
        plots["error"] = f"{type(e).__name__}: {e}"

    return plots


VERDICT_RULE = ("verdict per cell: **ahead** only where every round's ratio is > 1, **behind** only where "
                "every round's is < 1, otherwise _mixed/within noise_")


def write_outputs(rows, rat, cells, info, cfg, errors, outdir, quick, elapsed, typed=None):
    os.makedirs(outdir, exist_ok=True)
    day = dt.date.today().isoformat()
    stem = os.path.join(outdir, f"{day}-{info['host']}-compare" + ("-quick" if quick else ""))
    labels = {p[0]: p[1] for p in T.PAYLOADS}
    with open(stem + ".json", "w") as f:
        json.dump({"machine": info, "config": cfg, "rows": rows, "ratios": rat, "ratio_rounds": cells,
                   "verdict_rule": VERDICT_RULE.replace("*", "").replace("_", ""),
                   "summary": V.summarize(cells, lambda k: labels[k]), "errors": errors,
                   "elapsed_s": elapsed,
                   "typed": None if typed is None else {
                       "rows": typed["rows"], "ratio_rounds": typed["cells"], "construct": typed["construct"],
                       "goals": [{"what": w, "unit": u.strip(), **g} for w, u, g in typed["goals"]],
                       "summary": V.summarize(typed["cells"], lambda k: TYPED_COLS[k]),
                       "errors": typed.get("errors")}}, f, indent=1)
    cols = ["transport", "payload", "bytes", "n", "median_us", "p99_us", "p999_us", "hop_median_us",
            "msgs_per_s", "gb_per_s", "cpu_send_us_per_msg", "cpu_recv_us_per_msg", "cpu_rt_a_us",
            "cpu_rt_b_us", "error"]
    with open(stem + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for t, pr in rows.items():
            for k, r in pr.items():
                w.writerow([t, k] + [r.get(c, "") for c in cols[2:]])
        for t, pr in (typed or {}).get("rows", {}).items():  # typed rows: payload cmdvel / dict
            for k, r in pr.items():
                w.writerow([t, k] + [r.get(c, "") for c in cols[2:]])
    plots = make_plots(rows, cfg, info, stem) if rows else {}

    # ---- markdown
    L = []
    L.append(f"# horus vs peers — {info['host']}, {day}" + (" (QUICK smoke run: few samples)" if quick else ""))
    L.append("")
    L.append("Generated by `bench/compare/run.py`" + (" --quick" if quick else "") +
             f" in {elapsed:.0f} s. Method: docs/performance.md, \"Comparison with peers\".")
    L.append("")
    if not rows:  # --typed-only
        L.append("(buffer rows not run: --typed-only)")
        L.append("")
        L += typed_section(typed, cfg, quick) if typed is not None else []
        with open(stem + ".md", "w") as f:
            f.write("\n".join(L))
        return stem
    L.append("## Headline ratios (peer median latency / horus median latency, same run; > 1 = horus faster)")
    L.append("")
    L.append(f"Each cell: the ratio of the medians over all {cfg['rounds']} rounds, [min–max of the per-round "
             "ratios] (peer's round-i median / horus's round-i median; the rounds interleave the transports, "
             f"so round i saw the same machine conditions for all), then the {VERDICT_RULE}. The first number pools "
             "the samples of all rounds, so it can lie outside the per-round range.")
    L.append("")
    for base, tab in cells.items():
        L.append(f"Baseline **{base}** ({BASE_DESC[base]}):")
        L.append("")
        L.append("| peer | " + " | ".join(labels[k] for k in cfg["payloads"]) + " |")
        L.append("|---|" + "---|" * len(cfg["payloads"]))
        for t, pr in tab.items():
            L.append(f"| {t} | " + " | ".join(V.fmt_cell(pr[k]) for k in cfg["payloads"]) + " |")
        L.append("")
    # flatness + behind list
    for base in BASES:
        if base in rows:
            r = rows[base]
            a, b = r.get(cfg["payloads"][0], {}).get("median_us"), r.get(cfg["payloads"][-1], {}).get("median_us")
            if a and b:
                L.append(f"- {base}: {labels[cfg['payloads'][-1]]} / {labels[cfg['payloads'][0]]} median latency = "
                         f"**{b / a:.2f}×** (goal ≤ 1.2×)")
    L += V.summary_lines(V.summarize(cells, lambda k: labels[k]))
    L.append("")
    if typed is not None:
        L += typed_section(typed, cfg, quick)
    L.append("## Machine")
    L.append("")
    L.append(f"- CPU: {info.get('cpu', '?')}; cores online {info['cores_online']}, usable {info['cores_usable']} "
             "(ping pinned to the first usable core, pong to the second; the machine is shared, so numbers are noisy: "
             "compare ratios within this run)")
    L.append(f"- kernel {info['kernel']}, Python {info['python']}, date {info['date']}")
    L.append(f"- packages: main .venv {info['versions'].get('main')}; .venv-bench {info['versions'].get('bench')}")
    if info.get("cpp_worker"):
        L.append(f"- C++ rows: {info['cpp_worker']}")
    L.append(f"- schedule: {cfg['rounds']} round(s), per round and payload up to {cfg['lat_n']} latency round trips "
             f"(capped at {cfg['lat_cap']} s), {cfg['hop_n']} framework-hop round trips, {cfg['thr_n']} throughput "
             f"messages (capped at {cfg['thr_cap']} s); warm-up {cfg['warm']} round trips "
             f"({cfg['warm_ring']} for ring/pool transports), then {cfg.get('warm_bursts', 0)} bursts of "
             f"{T.WINDOW} messages")
    if typed is not None:
        L.append(f"- typed rows: per round up to {cfg['typed_lat_n']} latency round trips (capped at "
                 f"{cfg['typed_lat_cap']} s), {cfg['typed_thr_n']} throughput messages (capped at "
                 f"{cfg['typed_thr_cap']} s), warm-up as the ring/pool transports; construction: timeit "
                 f"{cfg['construct_number']} x {cfg['construct_repeat']} per round and venv")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("Latency = RTT/2 in µs (both sides make a message, send it, receive, touch). hop = the same with "
             "receive → torch tensor → `t[0].sum()` instead of the page touch (— for the C++ rows: no torch in C++). CPU = process CPU time per message in "
             "the throughput phase (send side / receive side; pollers burn CPU while waiting). n = latency samples "
             "(all rounds).")
    L.append("")
    for k in cfg["payloads"]:
        L.append(f"### {labels[k]} ({T.nbytes_of(T.PAYLOAD_BY_KEY[k]):,} B)")
        L.append("")
        L.append("| transport | n | median µs | p99 µs | p99.9 µs | round medians µs | hop median µs | msgs/s | GB/s "
                 "| CPU send µs/msg | CPU recv µs/msg |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for t, pr in rows.items():
            r = pr[k]
            if "median_us" not in r:
                L.append(f"| {t} | 0 | FAILED: {str(r.get('error', 'no samples')).replace('|', '/')[:300]} |"
                         " | | | | | | | |")
                continue
            flag = "" if quick or r["n"] >= 10000 else " (time cap)"
            L.append(f"| {t} | {r['n']}{flag} | {fmt(r['median_us'])} | {fmt(r['p99_us'])} | {fmt(r['p999_us'])} | "
                     f"{', '.join(fmt(x) for x in r['round_medians_us'])} | {fmt(r.get('hop_median_us'))} | "
                     f"{fmt(r.get('msgs_per_s'))} | {fmt(r.get('gb_per_s'), 2)} | "
                     f"{fmt(r.get('cpu_send_us_per_msg'))} | {fmt(r.get('cpu_recv_us_per_msg'))} |")
        L.append("")
    if errors:
        L.append("## Transports that could not run")
        L.append("")
        for t, e in errors.items():
            L.append(f"- **{t}**: {e}")
        L.append("")
    warn = [(t, k, r["warning"]) for t, pr in rows.items() for k, r in pr.items() if r.get("warning")]
    if warn:
        L.append("## Warnings (a round failed, others succeeded)")
        L.append("")
        for t, k, w in warn:
            L.append(f"- {t} / {labels[k]}: {w}")
        L.append("")
    L.append("## Plots")
    L.append("")
    for name, path in plots.items():
        if name != "error":
            L.append(f"![{name}]({os.path.basename(path)})")
    if "error" in plots:
        L.append(f"plots failed: {plots['error']}")
    L.append("")
    with open(stem + ".md", "w") as f:
        f.write("\n".join(L))
    return stem


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI smoke mode: 2 rounds, 2 payloads, few samples")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 5, quick: 2)")
    ap.add_argument("--transports", help="comma list (default: all)")
    ap.add_argument("--payloads", help="comma list of " + ",".join(T.PAYLOAD_BY_KEY))
    ap.add_argument("--out", help="output directory (default bench/results, quick: /tmp/horus-compare-quick)")
    ap.add_argument("--no-setup", action="store_true", help="do not run setup_venv.sh")
    ap.add_argument("--replot", metavar="JSON", help="only redraw the plots of an earlier run's .json")
    ap.add_argument("--no-typed", action="store_true", help="skip the typed-message rows (typed.py)")
    ap.add_argument("--typed-only", action="store_true", help="only the typed-message rows (no buffer rows)")
    ap.add_argument("--typed-transports", help="comma list of " + ",".join(TY.TYPED_BY_NAME) + " (default: all)")
    a = ap.parse_args()
    if a.replot:
        d = json.load(open(a.replot))
        print(make_plots(d["rows"], d["config"], d["machine"], a.replot[: -len(".json")]))
        return 0
    cfg = dict(QUICK if a.quick else FULL)
    if a.rounds:
        cfg["rounds"] = a.rounds
    if a.payloads:
        cfg["payloads"] = a.payloads.split(",")
    tnames = [] if a.typed_only else (a.transports.split(",") if a.transports else [t.name for t in T.TRANSPORTS])
    typed_names = [] if a.no_typed else (a.typed_transports.split(",") if a.typed_transports
                                         else [t.name for t in TY.TYPED_TRANSPORTS])
    outdir = a.out or ("/tmp/horus-compare-quick" if a.quick else os.path.join(ROOT, "bench", "results"))
    t_start = time.time()
    if not a.no_setup:
        subprocess.run(["bash", os.path.join(HERE, "setup_venv.sh")], check=False)
    errors = {}
    usable = []
    # the import checks start an interpreter and import torch each: run them side by side
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, len(os.sched_getaffinity(0)))) as ex:
        checked = list(ex.map(check_transport, tnames))
        typed_checked = list(ex.map(check_typed, typed_names))
    for t, e in zip(tnames, checked):
        if e:
            errors[t] = e
            print(f"[compare] {t}: NOT RUN — {e}", flush=True)
        else:
            usable.append(t)
    typed_errors, typed_usable = {}, []
    for t, e in zip(typed_names, typed_checked):
        if e:
            typed_errors[t] = e
            print(f"[compare] typed {t}: NOT RUN — {e}", flush=True)
        else:
            typed_usable.append(t)
    # one job list per round: the buffer rows, the typed rows, the construction benchmark (one
    # interpreter per venv); reversed on odd rounds; one process pair at a time
    jobs = [("buf", t) for t in usable] + [("typed", t) for t in typed_usable]
    if typed_names:
        jobs += [("construct", v) for v in ("main", "bench") if os.path.exists(os.path.join(VENVS[v], "bin", "python"))]
    raw = {t: [] for t in usable}
    raw_typed = {t: [] for t in typed_usable}
    raw_construct = []
    for rnd in range(cfg["rounds"]):
        order = jobs if rnd % 2 == 0 else list(reversed(jobs))
        raw_construct.append({})
        for kind, t in order:
            t0 = time.time()
            if kind == "construct":
                c = run_construct(t, cfg)
                raw_construct[-1].update(c)
                print(f"[compare] round {rnd + 1}/{cfg['rounds']} construct/{t:9s} {time.time() - t0:5.1f}s  " +
                      "  ".join(f"{n}=" + (f"{x['ns']:.0f}ns" if x.get("ns") else "ERR") for n, x in c.items()),
                      flush=True)
                continue
            tag = f"{os.getpid() % 100000}r{rnd}{abs(hash(kind + t)) % 1000}"
            if kind == "typed":
                d = run_typed_worker(t, cfg, tag)
                raw_typed[t].append(d)
                keys = typed_keys(t, cfg)
            else:
                d = run_worker(t, cfg, tag)
                raw[t].append(d)
                keys = cfg["payloads"]
            med = []
            for k in keys:
                pa = ((d.get("a") or {}).get("payloads") or {}).get(k, {})
                med.append(f"{k}=" + (f"{st.median(pa['rtt_ns']) / 2000:.{3 if kind == 'typed' else 1}f}us"
                                      if pa.get("rtt_ns") else "ERR " + str(pa.get("error", ""))[:100]))
            name = ("typed/" if kind == "typed" else "") + t
            print(f"[compare] round {rnd + 1}/{cfg['rounds']} {name:15s} {time.time() - t0:5.1f}s  " + " ".join(med)
                  + (f"  ERROR {d['error'][:200]}" if d.get("error") else ""), flush=True)
    rows = aggregate(raw, cfg)
    for t, e in errors.items():
        rows[t] = {k: {"n": 0, "bytes": T.nbytes_of(T.PAYLOAD_BY_KEY[k]), "error": e} for k in cfg["payloads"]}
    rat = ratios(rows, cfg)
    cells = ratio_cells(rows, rat, cfg)
    for base, tab in cells.items():
        for t, pr in tab.items():
            print(f"[compare] {base:14s} vs {t:15s} " + "  ".join(
                f"{k}: {V.fmt_ratio(c['ratio'])} [{V.fmt_spread(c)}] {V.VERDICT_TEXT.get(c['verdict'], 'no verdict')}"
                for k, c in pr.items()), flush=True)
    for ln in V.summary_lines(V.summarize(cells, lambda k: T.PAYLOAD_BY_KEY[k][1])):
        print("[compare] " + ln[2:], flush=True)
    typed = None
    if typed_names:
        trows, construct = typed_aggregate(raw_typed, raw_construct, cfg)
        for t, e in typed_errors.items():
            trows[t] = {k: {"n": 0, "error": e} for k in typed_keys(t, cfg)}
        tcells = typed_cells(trows, construct)
        typed = {"rows": trows, "cells": tcells, "construct": construct,
                 "goals": typed_goals(trows, tcells, construct), "errors": typed_errors, "raw": raw_typed}
        for base, tab in tcells.items():
            for t, pr in tab.items():
                print(f"[compare] typed {base:9s} vs {t:15s} " + "  ".join(
                    f"{k}: {V.fmt_ratio(c['ratio'])} [{V.fmt_spread(c)}] "
                    f"{V.VERDICT_TEXT.get(c['verdict'], 'no verdict')}" for k, c in pr.items()), flush=True)
        for what, unit, g in typed["goals"]:
            print("[compare] goal " + V.goal_line(what, g, unit, lambda x: f"{x:.3f}")[2:], flush=True)
    info = machine_info()
    stem = write_outputs(rows, rat, cells, info, cfg, errors, outdir, a.quick, time.time() - t_start, typed)
    print(f"[compare] wrote {stem}.md (+ .csv .json, plots) in {time.time() - t_start:.0f} s")
    # the harness itself must work: fail when horus (or, when asked for, horus-cpp) produced no numbers
    for base in ("horus", "horus-cpp"):
        if a.typed_only or (base != "horus" and base not in tnames):
            continue
        if not rows.get(base) or not any(r.get("median_us") for r in rows[base].values()):
            print(f"[compare] FAILED: no {base} results", file=sys.stderr)
            return 1
    # ... and the typed rows: horus (and horus-cpp, when asked for) must have CmdVel numbers, horus dict ones
    for base, keys in (("horus", ("cmdvel", "dict")), ("horus-cpp", ("cmdvel",))):
        if base not in typed_names:
            continue
        for k in keys:
            if k in cfg["typed_payloads"] and not ((typed["rows"].get(base) or {}).get(k) or {}).get("median_us"):
                print(f"[compare] FAILED: no typed {base} {k} results", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
