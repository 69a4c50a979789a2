"""verdicts.py — per-round ratios, their spread and a verdict per cell (bench/compare).

Pure functions, no numpy, no peers: run.py uses them for the report, and
tests/test_bench_verdicts.py checks them on synthetic numbers.

A *cell* is (horus baseline, peer, payload). run.py runs every transport once per round,
rounds interleaved (the order is reversed on every other round), so round i of horus and round
i of a peer saw the same machine conditions. For each round where both have a median, the
per-round ratio is peer median / horus median (> 1: horus faster). The verdict:

* "ahead"  — every per-round ratio is > 1,
* "behind" — every per-round ratio is < 1,
* "mixed"  — anything else (the rounds disagree, or a ratio is exactly 1): within noise.

A round in which either side has no median (it failed) does not count; the cell reports how
many rounds did (`rounds`) next to how many ran (`rounds_total`). A cell without any usable
round has no verdict (None).
"""
from __future__ import annotations

import statistics as st
from typing import Optional, Sequence

AHEAD, BEHIND, MIXED = "ahead", "behind", "mixed"
VERDICT_TEXT = {AHEAD: "ahead", BEHIND: "behind", MIXED: "mixed/within noise"}


def _ok(x) -> bool:
    return x is not None and x == x and x > 0  # not None, not NaN, positive


def round_ratios(base_rounds: Sequence[Optional[float]],
                 peer_rounds: Sequence[Optional[float]]) -> list[Optional[float]]:
    """Per-round peer / base ratios, aligned by round index (None where a side has no median)."""
    n = max(len(base_rounds), len(peer_rounds))
    out: list[Optional[float]] = []
    for i in range(n):
        b = base_rounds[i] if i < len(base_rounds) else None
        p = peer_rounds[i] if i < len(peer_rounds) else None
        out.append(p / b if _ok(b) and _ok(p) else None)
    return out


def verdict(ratios: Sequence[Optional[float]]) -> Optional[str]:
    """"ahead" if every usable per-round ratio is > 1, "behind" if every one is < 1, else "mixed";
    None when no round is usable."""
    rs = [r for r in ratios if r is not None]
    if not rs:
        return None
    if all(r > 1 for r in rs):
        return AHEAD
    if all(r < 1 for r in rs):
        return BEHIND
    return MIXED


def cell(base_rounds: Sequence[Optional[float]], peer_rounds: Sequence[Optional[float]],
         ratio: Optional[float] = None) -> dict:
    """Everything the report says about one cell.

    `ratio` is the headline number (run.py: peer median / horus median over all samples of all
    rounds); without it, the median of the per-round ratios is used."""
    per = round_ratios(base_rounds, peer_rounds)
    rs = [r for r in per if r is not None]
    if ratio is None and rs:
        ratio = st.median(rs)
    return {
        "ratio": ratio,
        "round_ratios": per,
        "min": min(rs) if rs else None,
        "max": max(rs) if rs else None,
        "rounds": len(rs),
        "rounds_total": len(per),
        "verdict": verdict(per),
    }


def fmt_ratio(x: Optional[float]) -> str:
    return "—" if x is None else f"{x:.2f}×"


def fmt_spread(c: dict) -> str:
    """'1.52–1.71×' (min–max of the per-round ratios), '+ 4/5 rounds' when some round failed."""
    if c.get("min") is None:
        return "—"
    s = f"{c['min']:.2f}–{c['max']:.2f}×" if c["rounds"] > 1 else f"{c['min']:.2f}× (1 round)"
    if c["rounds"] < c["rounds_total"]:
        s += f", {c['rounds']}/{c['rounds_total']} rounds"
    return s


def fmt_cell(c: dict) -> str:
    """Markdown table cell: ratio, spread, verdict; behind in bold, mixed in italics."""
    if c.get("ratio") is None and c.get("verdict") is None:
        return "—"
    v = c.get("verdict")
    text = f"{fmt_ratio(c.get('ratio'))} [{fmt_spread(c)}] {VERDICT_TEXT.get(v, 'no verdict')}"
    if v == BEHIND:
        return f"**{text}**"
    if v == MIXED:
        return f"_{text}_"
    return text


def summarize(cells: dict, label=lambda k: k) -> dict:
    """cells[base][peer][payload] = cell(...) -> lists of phrases per verdict.

    Returns {"behind": [...], "mixed": [...], "ahead": n, "total": n}; a phrase reads
    '<base> behind <peer> at <payload> (0.93×, rounds 0.88–0.97×)'."""
    behind, mixed, ahead, total = [], [], 0, 0
    for base, tab in cells.items():
        for peer, pr in tab.items():
            for k, c in pr.items():
                v = c.get("verdict")
                if v is None:
                    continue
                total += 1
                what = f"{fmt_ratio(c.get('ratio'))}, rounds {fmt_spread(c)}"
                if v == AHEAD:
                    ahead += 1
                elif v == BEHIND:
                    behind.append(f"{base} behind {peer} at {label(k)} ({what})")
                else:
                    mixed.append(f"{base} vs {peer} at {label(k)} ({what})")
    return {"behind": behind, "mixed": mixed, "ahead": ahead, "total": total}


def summary_lines(summary: dict) -> list[str]:
    """The report's two summary bullets (markdown), from summarize()."""
    b, m = summary["behind"], summary["mixed"]
    return [
        "- horus behind a peer (every round): " + ("; ".join(b) if b else "nowhere in this run"),
        "- mixed/within noise (rounds disagree): " + ("; ".join(m) if m else "none in this run"),
        f"- ahead in every round: {summary['ahead']} of {summary['total']} cells",
    ]


# ---------------------------------------------------------------- goals (typed-message section)
MET, MISSED, PARTLY = "met", "missed", "partly"
GOAL_TEXT = {MET: "met in every round", MISSED: "missed in every round", PARTLY: "met in some rounds only"}


def meets(x: Optional[float], target: float, at_most: bool) -> Optional[bool]:
    """Whether one value meets a goal: x <= target (at_most) or x >= target; None when x is unusable."""
    if not _ok(x):
        return None
    return x <= target if at_most else x >= target


def goal(value: Optional[float], rounds: Sequence[Optional[float]], target: float, at_most: bool) -> dict:
    """A goal ("≤ 1.5 µs", "≥ 2×") checked on the pooled value and on every round's value.

    status: "met" where every usable round meets it, "missed" where none does, "partly" in
    between (like the ahead/behind/mixed verdicts: one round's number is not quoted as the
    goal being met); None without a usable round. `pooled` says whether the pooled value
    (the headline number) meets it."""
    per = [meets(r, target, at_most) for r in rounds]
    ok = [m for m in per if m is not None]
    if not ok:
        status = None
    elif all(ok):
        status = MET
    elif not any(ok):
        status = MISSED
    else:
        status = PARTLY
    return {"value": value, "target": target, "at_most": at_most, "pooled": meets(value, target, at_most),
            "status": status, "rounds_met": sum(ok), "rounds": len(ok), "rounds_total": len(per)}


def goal_line(what: str, g: dict, unit: str = "", fmt=lambda x: f"{x:.2f}") -> str:
    """'- <what>: **1.23 µs** (goal ≤ 1.5 µs: met in every round, 5/5)' (markdown)."""
    v = "—" if not _ok(g.get("value")) else fmt(g["value"])
    op = "≤" if g["at_most"] else "≥"
    if g["status"] is None:
        st_ = "no result"
    else:
        st_ = f"{GOAL_TEXT[g['status']]}, {g['rounds_met']}/{g['rounds']} rounds"
        if g["rounds"] < g["rounds_total"]:
            st_ += f" ({g['rounds_total'] - g['rounds']} failed)"
    text = f"- {what}: **{v}{unit}** (goal {op} {fmt(g['target'])}{unit}: {st_})"
    return text
