"""The `horus` command: inspect and clean shared memory.

    horus stats              pool statistics of this process's namespace (HORUS_NAMESPACE)
    horus list               every horus namespace in /dev/shm, its size and live processes
    horus clean [NS ...]     remove namespaces no live process uses (all such if none named)
    horus clean --force NS   remove a namespace even if processes still use it (they will fail)
"""

from __future__ import annotations

import argparse
import sys

from horus import _core


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="horus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("stats", help="pool statistics of this namespace")
    sub.add_parser("list", help="horus namespaces in /dev/shm")
    clean = sub.add_parser("clean", help="remove shared memory of dead namespaces")
    clean.add_argument("namespaces", nargs="*", help="namespaces to clean (default: every one not in use)")
    clean.add_argument("--force", action="store_true", help="also remove namespaces with live processes")
    clean.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    args = ap.parse_args(argv)

    if args.command == "stats":
        print(_core.pool_stats())
        return 0
    infos = _core._list_namespaces()
    if args.command == "list":
        if not infos:
            print("no horus shared memory in /dev/shm")
        for info in infos:
            print(f"{info['namespace']:<32} {len(info['objects']):>4} objects {_fmt_bytes(info['bytes']):>11}"
                  f"  {info['live_processes']} live processes")
        return 0

    wanted = set(args.namespaces)
    for ns in wanted:
        _core._validate_namespace(ns)
    targets = [i for i in infos if not wanted or i["namespace"] in wanted]
    freed = 0
    for info in targets:
        ns = info["namespace"]
        if info["live_processes"] and not args.force:
            print(f"kept    {ns}: {info['live_processes']} live processes use it (--force to remove anyway)")
            continue
        if args.dry_run:
            print(f"would remove {ns}: {len(info['objects'])} objects, {_fmt_bytes(info['bytes'])}")
            continue
        removed = _core._clean_namespace(ns, args.force)
        if removed:
            freed += info["bytes"]
            print(f"removed {ns}: {len(removed)} objects, {_fmt_bytes(info['bytes'])}")
        else:
            print(f"kept    {ns}: in use")
    if not args.dry_run:
        print(f"freed {_fmt_bytes(freed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
