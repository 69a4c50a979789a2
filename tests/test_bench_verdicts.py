"""The peer comparison's per-round spread and verdict logic (bench/compare/verdicts.py),
on synthetic per-round medians: no peers, no workers, no horus import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "compare" / "verdicts.py"
_spec = importlib.util.spec_from_file_location("bench_compare_verdicts", _PATH)
V = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)

HORUS = [5.0, 5.2, 4.8, 5.1, 5.0]  # per-round medians, µs


def test_all_rounds_ahead():
    peer = [7.5, 7.8, 7.0, 7.6, 7.4]
    c = V.cell(HORUS, peer)
    assert c["verdict"] == V.AHEAD
    assert c["rounds"] == c["rounds_total"] == 5
    assert c["round_ratios"] == pytest.approx([p / h for h, p in zip(HORUS, peer)])
    assert c["min"] == pytest.approx(min(c["round_ratios"]))
    assert c["max"] == pytest.approx(max(c["round_ratios"]))


def test_one_round_behind_is_mixed():
    peer = [7.5, 7.8, 4.0, 7.6, 7.4]  # round 3: the peer beat horus
    c = V.cell(HORUS, peer, ratio=1.45)
    assert c["verdict"] == V.MIXED
    assert c["ratio"] == 1.45  # the headline number is kept as given
    assert c["min"] == pytest.approx(4.0 / 4.8) and c["min"] < 1 < c["max"]


def test_all_rounds_behind():
    peer = [4.5, 4.9, 4.6, 4.0, 4.7]
    assert V.cell(HORUS, peer)["verdict"] == V.BEHIND


def test_ratio_of_exactly_one_is_not_ahead():
    assert V.verdict([1.2, 1.0, 1.3]) == V.MIXED
    assert V.verdict([0.9, 1.0]) == V.MIXED


def test_failed_rounds_do_not_count_and_are_reported():
    c = V.cell([5.0, None, 5.0], [6.0, 6.0, None])
    assert c["round_ratios"] == [pytest.approx(1.2), None, None]
    assert (c["rounds"], c["rounds_total"], c["verdict"]) == (1, 3, V.AHEAD)
    assert "1/3 rounds" in V.fmt_spread(c)
    empty = V.cell([None, None], [6.0, 6.0])
    assert empty["verdict"] is None and empty["min"] is None
    assert V.fmt_cell(empty) == "—"


def test_median_of_round_ratios_when_no_headline_ratio():
    c = V.cell([1.0, 1.0, 1.0], [2.0, 3.0, 10.0])
    assert c["ratio"] == pytest.approx(3.0)


def test_summary_uses_verdicts_not_the_pooled_ratio():
    cells = {"horus": {
        "iceoryx2": {
            # pooled ratio < 1 but the rounds disagree: mixed, not "behind"
            "640x480": V.cell(HORUS, [5.5, 4.0, 4.0, 5.5, 4.5], ratio=0.93),
            # every round behind: behind
            "8MiB": V.cell(HORUS, [4.0, 4.0, 4.0, 4.0, 4.0], ratio=0.80),
            "64B": V.cell(HORUS, [8.0] * 5, ratio=1.6),
        },
    }}
    s = V.summarize(cells)
    assert s["ahead"] == 1 and s["total"] == 3
    assert len(s["behind"]) == 1 and s["behind"][0].startswith("horus behind iceoryx2 at 8MiB (0.80×")
    assert len(s["mixed"]) == 1 and "640x480" in s["mixed"][0]
    lines = V.summary_lines(s)
    assert lines[0].startswith("- horus behind a peer (every round): horus behind iceoryx2 at 8MiB")
    assert "640x480" in lines[1] and lines[2].endswith("1 of 3 cells")
    assert V.summary_lines(V.summarize({}))[0].endswith("nowhere in this run")


def test_cell_text():
    assert V.fmt_cell(V.cell(HORUS, [7.5] * 5, ratio=1.5)).endswith("] ahead")
    assert V.fmt_cell(V.cell(HORUS, [4.0] * 5, ratio=0.8)).startswith("**0.80× [")
    assert V.fmt_cell(V.cell(HORUS, [5.5, 4.0, 4.0, 5.5, 4.5])).endswith("mixed/within noise_")


# ---- goals of the typed-message section (verdicts.goal / goal_line)


def test_goal_met_in_every_round():
    g = V.goal(1.2, [1.1, 1.3, 1.4], 1.5, at_most=True)
    assert g["status"] == V.MET and g["pooled"] is True
    assert (g["rounds_met"], g["rounds"], g["rounds_total"]) == (3, 3, 3)


def test_goal_missed_and_partly():
    assert V.goal(1.8, [1.6, 1.9], 1.5, at_most=True)["status"] == V.MISSED
    g = V.goal(1.45, [1.4, 1.6, 1.3], 1.5, at_most=True)
    assert g["status"] == V.PARTLY and g["rounds_met"] == 2 and g["pooled"] is True


def test_goal_at_least_for_ratios_and_boundary():
    # a ratio goal (">= 2x"): exactly on the target counts as met, on either side
    assert V.goal(2.0, [2.0, 2.5], 2.0, at_most=False)["status"] == V.MET
    assert V.goal(1.9, [1.9, 2.1], 2.0, at_most=False)["status"] == V.PARTLY
    assert V.goal(0.15, [0.15], 0.15, at_most=True)["status"] == V.MET


def test_goal_failed_rounds_do_not_count():
    g = V.goal(1.0, [None, 1.0, float("nan"), 0.0], 1.5, at_most=True)
    assert g["status"] == V.MET and (g["rounds"], g["rounds_total"]) == (1, 4)
    g = V.goal(None, [None, None], 1.5, at_most=True)
    assert g["status"] is None and g["pooled"] is None


def test_goal_line_text():
    g = V.goal(1.234, [1.1, 1.6], 1.5, at_most=True)
    s = V.goal_line("horus CmdVel", g, " µs")
    assert s == "- horus CmdVel: **1.23 µs** (goal ≤ 1.50 µs: met in some rounds only, 1/2 rounds)"
    g = V.goal(2.5, [2.4, None], 2.0, at_most=False)
    assert V.goal_line("vs peer", g, "×").endswith("(goal ≥ 2.00×: met in every round, 1/1 rounds (1 failed))")
    assert "no result" in V.goal_line("x", V.goal(None, [], 1.0, at_most=True))


def test_higher_is_better_metric_swaps_the_sides():
    # run.py's typed throughput cells: V.cell(peer_rounds, horus_rounds) -> ratio = horus / peer
    horus_mps, peer_mps = [2.2e6, 2.0e6], [1.8e6, 1.9e6]
    c = V.cell(peer_mps, horus_mps)
    assert c["verdict"] == V.AHEAD and c["min"] == pytest.approx(2.0 / 1.9)


def test_typed_sequence_numbers_survive_float32_fields():
    # bench/compare/typed.py carries worker.py's sequence numbers (low 24 bits + flag bits 58..61)
    # in CmdVel's two float32 fields; both must come back exactly
    import sys

    np = pytest.importorskip("numpy")
    here = str(_PATH.parent)
    before = set(sys.modules)
    sys.path.insert(0, here)
    try:  # typed.py imports bench/compare's worker.py and transports.py (numpy only)
        spec = importlib.util.spec_from_file_location("bench_compare_typed", _PATH.parent / "typed.py")
        TY = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(TY)
    finally:
        while here in sys.path:
            sys.path.remove(here)
        for name in set(sys.modules) - before:  # no "worker"/"transports" left for other tests
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(here):
                del sys.modules[name]
    from_worker = [0, 1, (1 << 24) - 1, 5 | (1 << 60), 7 | (1 << 61) | (1 << 60), 9 | (1 << 59), 3 | (1 << 58)]
    for s in from_worker:
        lin, ang = (float(np.float32(x)) for x in TY.enc(s))
        assert TY.dec(lin, ang) == s
