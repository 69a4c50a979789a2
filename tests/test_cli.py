"""The `horus` command (python -m horus): shared memory (list, clean), the pool, usage errors, --namespace.

Also the helpers the other tests/test_cli_*.py files use: `cli(...)` runs the command in a
fresh interpreter, in this session's namespace unless told otherwise, with plain output
(no colours, not a terminal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import horus
from conftest import SESSION_NAMESPACE
from horus.cli import main

#: Environment variables that would make rich think it writes to a terminal, or narrow it.
_TERMINAL_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES", "CLICOLOR_FORCE")


def cli_env(namespace: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _TERMINAL_ENV}
    env["HORUS_NAMESPACE"] = namespace or SESSION_NAMESPACE
    env["NO_COLOR"] = "1"
    return env


def cli(*args: str, namespace: str | None = None, timeout: float = 60, cwd: str | None = None,
        ok: bool | None = True) -> subprocess.CompletedProcess[str]:
    """Runs `python -m horus ARGS`; with ok=True asserts exit status 0, ok=False non-zero."""
    out = subprocess.run([sys.executable, "-m", "horus", *args], capture_output=True, text=True,
                         timeout=timeout, env=cli_env(namespace), cwd=cwd)
    if ok is True:
        assert out.returncode == 0, f"horus {' '.join(args)} failed ({out.returncode}): {out.stderr}"
    elif ok is False:
        assert out.returncode != 0, f"horus {' '.join(args)} should have failed: {out.stdout}"
    assert "Traceback" not in out.stderr, out.stderr
    return out


def cli_json(*args: str, **kw) -> object:
    return json.loads(cli(*args, "--json", **kw).stdout)


def _objects(ns: str) -> list[str]:
    return [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]


def test_clean_removes_a_namespace_whose_processes_were_killed_and_keeps_live_ones():
    dead = f"cli_dead_{uuid.uuid4().hex[:8]}"
    code = ("import os, signal, horus\n"
            "img = horus.Image(height=48, width=64, encoding='rgb8')\n"
            "t = horus.Topic(horus.Image, 'cam'); t.send(img)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=cli_env(dead), timeout=60)
    assert proc.returncode == -9
    assert len(_objects(dead)) >= 3  # pool, a segment, the topic: nobody is left to unlink them
    listed = {n["namespace"]: n for n in cli_json("list")["namespaces"]}
    assert listed[dead]["live_processes"] == 0 and listed[dead]["objects"] == len(_objects(dead))
    assert sorted(listed[dead]["names"]) == sorted(_objects(dead))
    table = cli("list").stdout.splitlines()
    assert table[0].split() == ["NAMESPACE", "OBJECTS", "SIZE", "LIVE", "PROCESSES"]
    row = next(line for line in table if line.startswith(dead + " "))
    assert row.split()[1] == str(len(_objects(dead))) and row.split()[-1] == "0"
    assert cli_json("list", "--namespace", dead)["namespaces"] == [listed[dead]]
    horus.pool_stats()  # attaches this process, so the session namespace has a live process
    dry = cli("clean", "--dry-run").stdout
    assert f"would remove {dead}" in dry and _objects(dead)
    out = cli("clean", dead).stdout
    assert f"removed {dead}" in out and "freed" in out
    assert _objects(dead) == []
    kept = cli_json("clean", SESSION_NAMESPACE)
    assert kept["removed"] == [] and kept["kept"][0]["namespace"] == SESSION_NAMESPACE
    assert kept["kept"][0]["live_processes"] >= 1 and _objects(SESSION_NAMESPACE)
    assert f"kept    {SESSION_NAMESPACE}" in cli("clean", SESSION_NAMESPACE).stdout


def test_clean_rejects_an_invalid_namespace_name_without_a_traceback():
    out = cli("clean", "../etc", ok=False)
    assert out.returncode == 1
    assert out.stderr.strip() == ("horus: error: HORUS_NAMESPACE='../etc' is invalid: use 1-48 characters from "
                                  "A-Z a-z 0-9 _ -")


def test_pool_json_has_the_pool_statistics_of_this_namespace():
    doc = cli_json("pool")
    assert set(doc) == set(horus.pool_stats().as_dict())
    assert doc["namespace"] == SESSION_NAMESPACE and doc["processes"] >= 1
    assert cli_json("stats").keys() == doc.keys()  # stats is the same command


def test_pool_table_aligns_its_values():
    lines = cli("pool").stdout.splitlines()
    keys = ["namespace", "processes", "segments", "blocks in use", "bytes in use", "capacity", "reserved", "max",
            "reclaimed"]
    assert [next(k for k in sorted(keys, key=len, reverse=True) if line.startswith(k)) for line in lines] == keys
    starts = {len(line) - len(line[len(k):].lstrip()) for line, k in zip(lines, keys)}
    assert len(starts) == 1, lines  # every value starts in the same column
    assert lines[0].split() == ["namespace", SESSION_NAMESPACE]


def test_usage_errors_exit_2_and_help_exits_0():
    for args in ([], ["bogus"], ["topic"], ["topic", "echo"], ["topic", "hz", "x", "--window", "0"],
                 ["topic", "bw", "x", "--window", "1"],
                 ["topic", "pub", "x", "CmdVel"], ["topic", "pub", "x", "CmdVel", "{}", "--rate", "-1"],
                 ["record", "x"], ["record", "-o", "x.mcap", "--compression", "bzip2", "t"],
                 ["view", "--port", "70000"], ["node", "info"]):
        out = cli(*args, ok=False)
        assert out.returncode == 2, (args, out.stderr)
        assert "usage: horus" in out.stderr, (args, out.stderr)
    out = cli("topic", "echo", "--help")
    assert "--once" in out.stdout and "usage: horus topic echo" in out.stdout


def test_record_without_topics_or_all_is_a_usage_error():
    out = cli("record", "-o", "x.mcap", ok=False)
    assert out.returncode == 2 and "name the topics to record, or pass --all" in out.stderr


def test_namespace_option_works_before_and_after_the_command():
    other = f"cli_ns_{uuid.uuid4().hex[:8]}"
    assert cli_json("--namespace", other, "pool")["namespace"] == other
    assert cli_json("pool", "--namespace", other)["namespace"] == other
    assert json.loads(cli("--json", "pool").stdout)["namespace"] == SESSION_NAMESPACE
    assert cli("pool", "--namespace", "no/slash", ok=False).returncode == 1


def test_namespace_option_refuses_to_switch_a_process_already_attached(capsys):
    horus.pool_stats()
    assert main(["--namespace", "somewhere_else", "pool", "--json"]) == 1
    err = capsys.readouterr().err
    assert "already uses the namespace" in err and SESSION_NAMESPACE in err
    assert os.environ["HORUS_NAMESPACE"] == SESSION_NAMESPACE  # restored
    assert main(["--namespace", SESSION_NAMESPACE, "pool", "--json"]) == 0  # the same one is fine
    assert json.loads(capsys.readouterr().out)["namespace"] == SESSION_NAMESPACE


def test_main_returns_the_usage_status_instead_of_exiting(capsys):
    assert main(["topic", "hz"]) == 2
    assert "the following arguments are required: NAME" in capsys.readouterr().err
    assert main(["--help"]) == 0
