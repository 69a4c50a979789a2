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
