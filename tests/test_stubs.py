"""Type stubs: python/horus/_core.pyi matches the extension module, and py.typed ships."""

from __future__ import annotations

import ast
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import horus
import horus._core as core

PKG = Path(horus.__file__).parent


def stub_tree() -> ast.Module:
    path = PKG / "_core.pyi"
    assert path.is_file(), f"{path} is not installed"
    return ast.parse(path.read_text())


def stub_names(tree: ast.Module) -> dict[str, ast.AST]:
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names[t.id] = node
    return names


def test_py_typed_and_stub_are_installed():
    assert (PKG / "py.typed").is_file()
    assert (PKG / "_core.pyi").is_file()


def test_import_horus_in_a_fresh_interpreter():
    r = subprocess.run([sys.executable, "-c", "import horus; print(sorted(horus.__all__))"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_public_name_is_typed():
    names = stub_names(stub_tree())
    for name in horus.__all__:
        obj = getattr(horus, name)
        if getattr(obj, "__module__", None) in ("horus._core", "horus") and hasattr(core, name):
            assert name in names, f"horus.{name} comes from horus._core but is missing from _core.pyi"


def _supports_buffer(cls: type) -> bool:
    """Instances export the buffer protocol (for _RecordBase: a declared message, e.g. horus.CmdVel)."""
    try:
        memoryview(horus.CmdVel() if cls is core._RecordBase else cls.__new__(cls))
        return True
    except Exception:
        return False


def test_every_core_name_and_member_is_in_the_stub():
    names = stub_names(stub_tree())
    # Private names too (_RecordBase, _declare_record, ...): the package's own modules use them,
    # and mypy checks those modules (and user classes derived from TypedMessage) against the stub.
    public = [n for n in dir(core) if not n.startswith("__")]
    missing = [n for n in public if n not in names]
    assert not missing, f"in horus._core but not in _core.pyi: {missing}"
    for name in public:
        obj = getattr(core, name)
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        cls = names[name]
        assert isinstance(cls, ast.ClassDef)
        members = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        members |= {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
        runtime = {m for m in vars(obj) if not m.startswith("_") or m in
                   ("__dlpack__", "__dlpack_device__", "__array_interface__", "__repr__")}
        lacking = sorted(runtime - members)
        assert not lacking, f"{name}: members missing from _core.pyi: {lacking}"
        # __buffer__ is how the stub says "buffer protocol" (Python < 3.12 has no such attribute).
        extra = sorted(m for m in members - set(dir(obj)) if not (m == "__buffer__" and _supports_buffer(obj)))
        assert not extra, f"{name}: _core.pyi declares members the class lacks: {extra}"


def test_docstrings_on_public_names():
    for name in (n for n in dir(core) if not n.startswith("_")):
        obj = getattr(core, name)
        if inspect.isclass(obj) or callable(obj):
            assert (obj.__doc__ or "").strip(), f"horus._core.{name} has no docstring"
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for m, v in vars(obj).items():
                if not m.startswith("_"):
                    assert (getattr(v, "__doc__", None) or "").strip(), f"{name}.{m} has no docstring"


SAMPLE = '''
import numpy as np
import horus
from horus import DepthImage, Image, PointCloud, Tensor

img = Image(height=480, width=640, encoding="rgb8")
arr: np.ndarray = img.to_numpy()
px: list[int] | list[float] = img.pixel(1, 2)
img.set_pixel(1, 2, [255, 0, 0])
img.fill([0, 0, 0])
roi: bytes = img.roi(x=0, y=0, w=2, h=2)
h: int = img.height
enc: str = img.encoding
d = DepthImage.from_numpy(np.zeros((2, 2), np.float32))
stats = d.depth_statistics()
if stats:
    lo, hi, mean = stats
c = PointCloud(num_points=3, fields=3, dtype="float32")
p: list[float] = c.point_at(0)
t = Tensor((2, 3), "int8")
shape: tuple[int, ...] = t.shape
s = horus.pool_stats()
n: int = s.blocks_in_use
dev: tuple[int, int] = img.__dlpack_device__()
'''


def test_mypy_accepts_typical_code(tmp_path):
    mypy = shutil.which("mypy") or (Path(sys.executable).parent / "mypy")
    if not Path(mypy).exists():
        pytest.skip("mypy is not installed")
    f = tmp_path / "sample.py"
    f.write_text(SAMPLE)
    r = subprocess.run([str(mypy), "--ignore-missing-imports", "--follow-imports=silent", str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
