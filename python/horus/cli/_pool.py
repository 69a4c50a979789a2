"""`horus pool` (also `horus stats`): the shared-memory pool of the namespace, from horus.pool_stats()."""

from __future__ import annotations

import argparse

import horus

from horus.cli._output import fmt_bytes, kv_table, print_json

__all__ = ["pool"]


def pool(args: argparse.Namespace) -> int:
    s = horus.pool_stats()
    if args.json:
        print_json(s.as_dict())
        return 0
    share = f" ({100 * s.bytes_in_use / s.capacity_bytes:.1f} % of capacity)" if s.capacity_bytes else ""
    kv_table([
        ("namespace", s.namespace),
        ("processes", s.processes),
        ("segments", s.segments),
        ("blocks in use", f"{s.blocks_in_use} of {s.blocks_total}"),
        ("bytes in use", f"{fmt_bytes(s.bytes_in_use)}{share}"),
        ("capacity", fmt_bytes(s.capacity_bytes)),
        ("reserved", f"{fmt_bytes(s.reserved_bytes)} (headers included)"),
        ("max", f"{fmt_bytes(s.max_bytes)} (HORUS_POOL_MAX_BYTES)"),
        ("reclaimed", f"{s.reclaimed_processes} dead processes"),
    ])
    return 0
