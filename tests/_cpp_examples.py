"""Builds the C++ examples (examples/cpp) in build/cpp for the cross-language tests.

build_cpp_examples(*targets) configures build/cpp with the examples on if it is not yet, then
brings the targets up to date (under build/.cpp.lock: other shells may be building the same
tree), so the binaries always link the library of the current sources.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPP_BUILD = REPO / "build" / "cpp"
CPP_EXAMPLES = CPP_BUILD / "examples" / "cpp"


def _cmake() -> Path:
    cmake = REPO / ".venv" / "bin" / "cmake"
    return cmake if cmake.exists() else Path(shutil.which("cmake") or "cmake")


def build_cpp_examples(*targets: str) -> Path:
    """The directory of the example binaries, with `targets` built and up to date."""
    cmake = _cmake()
    cache = CPP_BUILD / "CMakeCache.txt"
    if not cache.exists() or "HORUS_BUILD_EXAMPLES:BOOL=ON" not in cache.read_text():
        ninja = REPO / ".venv" / "bin" / "ninja"
        configure = [str(cmake), "-S", str(REPO), "-B", str(CPP_BUILD), "-G", "Ninja",
                     "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DHORUS_BUILD_EXAMPLES=ON",
                     "-DHORUS_BUILD_PYTHON=OFF", "-DHORUS_BUILD_BENCH=OFF"]
        if ninja.exists():
            configure.append(f"-DCMAKE_MAKE_PROGRAM={ninja}")
        (REPO / "build").mkdir(exist_ok=True)
        r = subprocess.run(configure, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:  # e.g. a half-written C++ test tree: the examples do not need it
            r = subprocess.run(configure + ["-DHORUS_BUILD_TESTS=OFF"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"configuring the C++ examples failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    (REPO / "build").mkdir(exist_ok=True)
    r = subprocess.run(["flock", str(REPO / "build" / ".cpp.lock"), str(cmake), "--build", str(CPP_BUILD),
                        "--target", *targets], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"building the C++ examples {targets} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    for t in targets:
        assert (CPP_EXAMPLES / t).exists(), f"{CPP_EXAMPLES / t} was not built"
    return CPP_EXAMPLES
