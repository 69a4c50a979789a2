"""`horus list` and `horus clean`: horus namespaces in /dev/shm, and removing those no live process uses.

Neither attaches to a namespace: they read and unlink /dev/shm objects by name. --namespace
NS narrows `list` to NS, and for `clean` it is one more namespace to clean.
"""

from __future__ import annotations

import argparse
from typing import Any

from horus import _core

from horus.cli._output import console, fmt_bytes, print_json, table

__all__ = ["clean", "list_namespaces"]


def list_namespaces(args: argparse.Namespace) -> int:
    infos = _core._list_namespaces()
    if args.namespace is not None:
        _core._validate_namespace(args.namespace)
        infos = [i for i in infos if i["namespace"] == args.namespace]
    if args.json:
        print_json({"namespaces": [{"namespace": i["namespace"], "objects": len(i["objects"]), "bytes": i["bytes"],
                                    "live_processes": i["live_processes"], "names": list(i["objects"])}
                                   for i in infos]})
        return 0
    if not infos:
        console().print("no horus shared memory in /dev/shm", markup=False)
        return 0
    table(["NAMESPACE", "OBJECTS", "SIZE", "LIVE PROCESSES"],
          ([i["namespace"], len(i["objects"]), fmt_bytes(i["bytes"]), i["live_processes"]] for i in infos),
          numeric={1, 2, 3})
    return 0


def clean(args: argparse.Namespace) -> int:
    wanted = set(args.namespaces)
    if args.namespace is not None:
        wanted.add(args.namespace)
    for ns in sorted(wanted):
        _core._validate_namespace(ns)
    infos = _core._list_namespaces()
    targets = [i for i in infos if not wanted or i["namespace"] in wanted]
    removed: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    would: list[dict[str, Any]] = []
    lines: list[str] = []
    freed = 0
    for info in targets:
        ns = info["namespace"]
        entry = {"namespace": ns, "objects": len(info["objects"]), "bytes": info["bytes"]}
        if info["live_processes"] and not args.force:
            kept.append({**entry, "live_processes": info["live_processes"]})
            lines.append(f"kept    {ns}: {info['live_processes']} live processes use it (--force to remove anyway)")
            continue
        if args.dry_run:
            would.append(entry)
            lines.append(f"would remove {ns}: {len(info['objects'])} objects, {fmt_bytes(info['bytes'])}")
            continue
        gone = _core._clean_namespace(ns, args.force)
        if gone:
            freed += info["bytes"]
            removed.append({**entry, "objects": len(gone)})
            lines.append(f"removed {ns}: {len(gone)} objects, {fmt_bytes(info['bytes'])}")
        else:
            kept.append({**entry, "live_processes": info["live_processes"]})
            lines.append(f"kept    {ns}: in use")
    if args.json:
        doc: dict[str, Any] = {"removed": removed, "kept": kept, "freed_bytes": freed}
        if args.dry_run:
            doc["would_remove"] = would
        print_json(doc)
        return 0
    for line in lines:
        console().print(line, markup=False)
    if not args.dry_run:
        console().print(f"freed {fmt_bytes(freed)}", markup=False)
    return 0
