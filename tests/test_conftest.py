"""The checks in conftest.py can fail: each runs in a pytest session of its own (a
subprocess, so it has its own namespace and pool) on a test that leaks on purpose.

A leak check that cannot fail proves nothing; these are the tests of the tests.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
CONFTEST = (TESTS / "conftest.py").read_text()


def run_session(pytester: pytest.Pytester, test_source: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=textwrap.dedent(test_source))
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:randomly", timeout=120)


def test_no_leak_fails_a_test_that_leaks(pytester):
    r = run_session(pytester, """
        import horus
        KEEP = []

        def test_leaks(no_leak):
            KEEP.append(horus.Tensor((16,), "uint8"))

        def test_does_not_leak(no_leak):
            t = horus.Tensor((16,), "uint8")
            del t
    """)
    r.assert_outcomes(passed=2, errors=1)
    r.stdout.fnmatch_lines(["*pool blocks in use went from 0 to 1: a block leaked*"])


def test_no_leak_is_not_fooled_by_garbage_of_an_earlier_test(pytester):
    """An earlier test's garbage cycle in the old generation held a block; the
    young-generation baseline counted it, the full collection after the test freed
    it, and the block the test leaked went unnoticed. The baseline now follows a
    full collection."""
    r = run_session(pytester, """
        import gc
        import horus
        KEEP = []

        class Cycle:
            def __init__(self):
                self.me = self
                self.msg = horus.Tensor((16,), "uint8")

        def test_leaves_old_garbage():
            holder = [Cycle()]
            gc.collect()  # the cycle survives into the oldest generation...
            holder.clear()  # ...and only then becomes garbage: young collections miss it

        def test_leaks_while_old_garbage_is_around(no_leak):
            KEEP.append(horus.Tensor((16,), "uint8"))
    """)
    r.assert_outcomes(passed=2, errors=1)
    r.stdout.fnmatch_lines(["*a block leaked*"])


def test_session_fails_when_blocks_are_in_use_at_its_end(pytester):
    r = run_session(pytester, """
        import horus
        KEPT_BY_A_MODULE_GLOBAL = horus.Image(height=2, width=2, encoding="mono8")

        def test_passes():
            assert KEPT_BY_A_MODULE_GLOBAL.nbytes == 4
    """)
    r.assert_outcomes(passed=1)
    assert r.ret == pytest.ExitCode.TESTS_FAILED
    r.stderr.fnmatch_lines(["*FAILED: 1 pool block(s) (* bytes) still in use at session end*"])


def test_session_end_check_collects_frozen_cycles_first(pytester):
    """no_leak freezes what is alive at a test's start; a cycle that becomes garbage
    after that is collected at the session's end, before the count: only live
    holders fail the run."""
    r = run_session(pytester, """
        import horus
        HOLDER = []

        class Cycle:
            def __init__(self):
                self.me = self
                self.msg = horus.Tensor((16,), "uint8")

        def test_keeps_a_cycle():
            HOLDER.append(Cycle())

        def test_drops_it(no_leak):  # its baseline froze the cycle (alive then)
            HOLDER.clear()  # garbage now, but frozen: its block stays counted

        def test_after(no_leak):
            pass
    """)
    r.assert_outcomes(passed=3)
    assert r.ret == pytest.ExitCode.OK, r.stderr.str()


def test_a_clean_session_passes(pytester):
    r = run_session(pytester, """
        import horus

        def test_round_trip(no_leak):
            t = horus.Topic(horus.Tensor, "clean_session")
            t.send(horus.Tensor((4,)))
            assert t.recv() is not None
    """)
    r.assert_outcomes(passed=1)
    assert r.ret == pytest.ExitCode.OK, r.stderr.str()


def test_numpy_tests_run_without_torch_and_jax():
    """test_zero_copy.py asked for torch and jax at module level, so without them
    its NumPy-only tests were skipped too. Run it with both imports blocked."""
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None  # `import torch` raises ImportError
        sys.modules["jax"] = None
        import pytest
        sys.exit(pytest.main(["-q", "-rA", "-p", "no:cacheprovider", sys.argv[1]]))
    """)
    r = subprocess.run([sys.executable, "-c", code, str(TESTS / "test_zero_copy.py")], capture_output=True,
                       text=True, timeout=300, cwd=TESTS.parent)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    passed = [line for line in r.stdout.splitlines() if line.startswith("PASSED")]
    for name in ("test_all_numpy_views_share_one_address[0]", "test_from_numpy_of_a_sub_view_keeps_the_offset",
                 "test_dlpack_capsule_names_and_device", "test_view_outlives_message[to_numpy]",
                 "test_from_numpy_of_a_pool_view_makes_no_copy[Image-arr0]"):
        assert any(line.endswith("::" + name) for line in passed), (name, r.stdout[-3000:])
    assert "could not import 'torch'" in r.stdout  # the torch tests are skipped, not failed
    assert len(passed) >= 20, r.stdout[-3000:]
