"""One version number: the VERSION file, the wheel's metadata and horus.__version__ agree.

CMake reads VERSION into project(VERSION) and writes horus/_version.py from it, so
horus.__version__ is CMake's version; the installed C++ package's version is checked
by the ctest install.ExamplesBuildAgainstInstalledPackage.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import horus

ROOT = Path(__file__).resolve().parent.parent


def test_version_file_wheel_metadata_and_module_agree():
    version = (ROOT / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    assert importlib.metadata.version("horus") == version
    assert horus.__version__ == version

