"""Finding topics and nodes by name for the horus command (through horus.topics()/horus.nodes()).

A name that is not there is a CliError listing the close matches (difflib), so a typo gets
"did you mean ...?" instead of a silently created, empty topic: the commands that observe
a topic look it up here first and never open one that does not exist.
"""

from __future__ import annotations

import difflib
from typing import Any

import horus

from horus.cli._output import CliError

__all__ = ["close_matches", "find_nodes", "find_topic", "missing_topics", "nodes", "topics", "unknown"]


def _discovery(fn: str) -> Any:
    f = getattr(horus, fn, None)
    if f is None:
        raise CliError(f"this horus build has no discovery API (horus.{fn}()); reinstall horus from this source tree")
    return f


def topics() -> list[Any]:
    """horus.topics(): the TopicInfo of every topic of this process's namespace, sorted by name."""
    return list(_discovery("topics")())


def nodes() -> list[Any]:
    """horus.nodes(): the NodeInfo of every running node of this namespace, sorted by name, pid."""
    return list(_discovery("nodes")())


def close_matches(name: str, names: list[str]) -> list[str]:
    """The names most like `name`, best first (at most 5): those whose difflib ratio is at least
    0.6 and within 0.15 of the best one, and names that contain `name` (3 characters or more)."""
    ratio = {n: difflib.SequenceMatcher(None, name, n).ratio() for n in set(names)}
    best = max(ratio.values(), default=0.0)
    picked = {n for n, r in ratio.items() if r >= 0.6 and r >= best - 0.15}
    if len(name) >= 3:
        picked |= {n for n in ratio if name in n}
    return sorted(picked, key=lambda n: (-ratio[n], n))[:5]


def unknown(what: str, name: str, names: list[str]) -> CliError:
    """The error for a `what` ("topic", "node") called `name` that is not among `names`."""
    ns = horus.namespace()
    where = f"in namespace {ns!r}"
    close = close_matches(name, names)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif names:
        hint = f"there are {len(set(names))} {what}s: `horus {what} list` shows them"
    else:
        hint = f"there are no {what}s"
    return CliError(f"unknown {what} {name!r} {where}; {hint}")


def find_topic(name: str) -> Any:
    """The TopicInfo of topic `name`, or a CliError naming close matches."""
    one = getattr(horus, "topic_info", None)
    if one is not None:
        try:
            found = one(name)
        except ValueError:  # not a valid topic name: certainly not there
            found = None
        if found is not None:
            return found
    all_topics = topics()
    for t in all_topics:
        if t.name == name:
            return t
    raise unknown("topic", name, [t.name for t in all_topics])


def find_nodes(name: str) -> list[Any]:
    """The NodeInfo of every running node called `name` (several processes may run one of the
    same name), or a CliError naming close matches."""
    all_nodes = nodes()
    found = [n for n in all_nodes if n.name == name]
    if not found:
        raise unknown("node", name, [n.name for n in all_nodes])
    return found


def missing_topics(names: list[str]) -> list[str]:
    """One warning per name in `names` that is not a topic (yet), with close matches; empty
    when every one exists."""
    if not names:
        return []
    existing = [t.name for t in topics()]
    out = []
    for n in names:
        if n not in existing:
            close = close_matches(n, existing)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            out.append(f"topic {n!r} does not exist yet; it is taken as soon as it appears{hint}")
    return out
