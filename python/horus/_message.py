"""Typed messages in Python: ``@horus.message``, ``horus.array``, ``horus.string``.

A declaration is a class with annotated fields::

    @horus.message
    class BatteryState:
        voltage: np.float32
        cell_voltages: horus.array(np.float32, 8)
        charging: bool
        name: horus.string(16)

It is laid out like the C struct HORUS_MESSAGE declares (NumPy's aligned dtype gives
the C rules; the C++ core checks every offset again), so both languages agree on the
bytes and on ``layout_hash``, which is the topic's type. The instance stores its bytes
in that layout (the C type ``_core._RecordBase``); each field is a descriptor that
checks assignments. Array fields are NumPy views of the bytes, made here.
"""

from __future__ import annotations

import sys
import typing
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from horus import _core

if TYPE_CHECKING:
    from types import MappingProxyType

    from typing_extensions import Self

__all__ = ["TypedMessage", "array", "string", "message", "record_class"]

#: Names a field may not have: the message's own attributes and methods.
RESERVED = frozenset(
    {
        "copy", "to_dict", "from_dict", "fields", "dtype", "layout_hash", "layout_text", "timestamp_ns",
        "frame_id", "set_timestamp_ns", "set_frame_id", "is_shared",
    }
)

_MAX_ELEMENTS = 64 << 20  # RecordLayout::kMaxSize: 64 MiB per message

_SCALARS = {
    bool: np.dtype(np.bool_),
    int: np.dtype(np.int64),
    float: np.dtype(np.float64),
}


class string:  # noqa: N801 (spelled like a type in annotations: horus.string(16))
    """A fixed-capacity UTF-8 text field: ``name: horus.string(16)`` (at most 16 bytes)."""

    __slots__ = ("capacity",)

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or not 1 <= capacity <= 1 << 26:
            raise ValueError(f"horus.string({capacity!r}): the capacity must be an int of 1 to {1 << 26} bytes")
        self.capacity = int(capacity)

    def __repr__(self) -> str:
        return f"horus.string({self.capacity})"


class array:  # noqa: N801
    """A fixed-size array field: ``horus.array(np.float32, 8)`` or ``horus.array(np.float64, (3, 3))``.

    The element type is a NumPy scalar type (or float/int/bool) or a ``horus.string(n)``.
    """

    __slots__ = ("element", "shape")

    def __init__(self, element: Any, shape: int | tuple[int, ...]) -> None:
        dims = shape if isinstance(shape, tuple) else (shape,)
        if not 1 <= len(dims) <= 4 or any(
            isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims
        ):
            raise ValueError(
                f"horus.array({_name(element)}, {shape!r}): the shape must be an int >= 1 or a tuple of 1 to 4 of them"
            )
        if not isinstance(element, string):
            _scalar_dtype(element, f"horus.array({_name(element)}, ...)")
        self.element = element
        self.shape = tuple(int(d) for d in dims)
        if int(np.prod(self.shape, dtype=object)) > _MAX_ELEMENTS:
            raise ValueError(f"{self!r}: {int(np.prod(self.shape, dtype=object))} elements; a message holds at most "
                             f"{_MAX_ELEMENTS} bytes, so an array field at most that many elements")

    def __repr__(self) -> str:
        shape = self.shape[0] if len(self.shape) == 1 else self.shape
        return f"horus.array({_name(self.element)}, {shape!r})"


def _name(t: Any) -> str:
    return getattr(t, "__name__", None) or repr(t)


def _scalar_dtype(t: Any, where: str) -> np.dtype[Any]:
    if t in _SCALARS:
        return _SCALARS[t]
    if isinstance(t, type) and issubclass(t, np.generic):
        dt = np.dtype(t)
        if dt.kind in "biuf" and dt.itemsize <= 8 and not (dt.kind == "f" and dt.itemsize not in (2, 4, 8)):
            return dt
    raise TypeError(
        f"{where}: {_name(t)} is not a supported element type (use np.int8..np.uint64, np.float16/32/64, "
        "np.bool_, float, int or bool)"
    )


class _Field:
    """One declared field, resolved."""

    __slots__ = ("name", "kind", "arg", "dims", "format", "element_dtype", "cls")

    def __init__(self, name: str, kind: str, arg: Any, dims: tuple[int, ...], fmt: Any, element_dtype: Any, cls: Any):
        self.name, self.kind, self.arg, self.dims = name, kind, arg, dims
        self.format, self.element_dtype, self.cls = fmt, element_dtype, cls


def _resolve(owner: str, name: str, ann: Any) -> _Field:
    where = f"field '{name}' of {owner}"
    if typing.get_origin(ann) is typing.Annotated:
        for meta in typing.get_args(ann)[1:]:
            if isinstance(meta, (array, string)) or (isinstance(meta, type) and issubclass(meta, np.generic)):
                return _resolve(owner, name, meta)
        ann = typing.get_args(ann)[0]
    if isinstance(ann, string):
        return _Field(name, "string", ann.capacity, (), np.dtype(f"S{ann.capacity}"), np.dtype(f"S{ann.capacity}"), None)
    if isinstance(ann, array):
        if isinstance(ann.element, string):
            el = np.dtype(f"S{ann.element.capacity}")
            return _Field(name, "string", ann.element.capacity, ann.shape, (el, ann.shape), el, None)
        el = _scalar_dtype(ann.element, where)
        return _Field(name, "scalar", el.name, ann.shape, (el, ann.shape), el, None)
    if isinstance(ann, type) and issubclass(ann, TypedMessage) and "layout_hash" in ann.__dict__:
        return _Field(name, "record", ann, (), ann.dtype, None, ann)
    try:
        dt = _scalar_dtype(ann, where)
    except TypeError:
        raise TypeError(
            f"{where} has type {_name(ann)}, which a message cannot hold; use a NumPy scalar type (np.float32, "
            "np.uint8, ...), float, int, bool, horus.array(T, n), horus.string(n) or another @horus.message class"
        ) from None
    return _Field(name, "scalar", dt.name, (), dt, dt, None)


_by_hash: dict[int, type[TypedMessage]] = {}


def record_class(layout_hash: int) -> type[TypedMessage] | None:
    """The message class declared in this process with this layout hash (the first one), or None."""
    return _by_hash.get(layout_hash)


def _annotations(cls: type, ns: dict[str, Any]) -> dict[str, Any]:
    raw = ns.get("__annotations__", {})
    module = sys.modules.get(ns.get("__module__", ""), None)
    env = dict(vars(module)) if module else {}
    env.setdefault("np", np)
    env.setdefault("numpy", np)
    out = {}
    for k, v in raw.items():
        if isinstance(v, str):
            try:
                v = eval(v, env, dict(ns))  # noqa: S307 (annotations of the class being declared)
            except Exception as e:
                raise TypeError(f"field '{k}' of {cls.__name__}: cannot evaluate the annotation {v!r} ({e})") from None
        if typing.get_origin(v) is ClassVar or v is ClassVar:
            continue
        out[k] = v
    return out


def _declare(cls: type, ns: dict[str, Any]) -> None:
    name = cls.__name__
    anns = _annotations(cls, ns)
    if not anns:
        raise TypeError(f"message {name} has no fields; annotate at least one (e.g. x: np.float32)")
    fields = []
    for fname, ann in anns.items():
        if fname.startswith("_") or fname in RESERVED:
            raise TypeError(
                f"field '{fname}' of {name}: the name is reserved (names starting with '_' and "
                f"{', '.join(sorted(RESERVED))} belong to the message itself)"
            )
        if fname in ns and not isinstance(ns[fname], _core._RecordField):
            raise TypeError(
                f"field '{fname}' of {name} has a default value ({ns[fname]!r}); defaults are not supported: "
                "every field starts at zero (or empty), set values in the constructor"
            )
        fields.append(_resolve(name, fname, ann))
    try:
        dtype = np.dtype({"names": [f.name for f in fields], "formats": [f.format for f in fields], "aligned": True})
    except (ValueError, TypeError) as e:
        raise ValueError(f"message {name}: its fields do not make a valid C layout ({e})") from None
    offsets = typing.cast("MappingProxyType[str, tuple[Any, int]]", dtype.fields)  # not None: a structured dtype
    specs = [(f.name, f.kind, f.arg, f.dims, offsets[f.name][1]) for f in fields]
    layout_hash, text, size, _align = _core._declare_record(cls, name, specs, dtype.itemsize)
    arrays = {}
    for i, f in enumerate(fields):
        if f.dims:
            arrays[i] = (f.element_dtype, int(np.prod(f.dims)), offsets[f.name][1], f.dims, f.kind, f.arg)
    setattr_ = type.__setattr__
    setattr_(cls, "dtype", dtype)
    setattr_(cls, "layout_hash", layout_hash)
    setattr_(cls, "layout_text", text)
    setattr_(cls, "fields", tuple(f.name for f in fields))
    setattr_(cls, "_horus_arrays", arrays)
    setattr_(cls, "_horus_nested", {f.name: f.cls for f in fields if f.kind == "record"})
    _by_hash.setdefault(layout_hash, typing.cast("type[TypedMessage]", cls))


class _MessageMeta(type):
    """Metaclass of typed messages: no per-instance __dict__, and a class with annotated
    fields is declared (laid out and given its field descriptors) when it is created."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any) -> _MessageMeta:
        ns = dict(ns)
        ns.setdefault("__slots__", ())
        cls = super().__new__(mcls, name, bases, ns, **kw)
        if ns.get("_horus_root", False):
            return cls
        if any("layout_hash" in b.__dict__ for b in cls.__mro__[1:]):
            raise TypeError(f"{name}: a declared message cannot be subclassed; declare a new message instead")
        _declare(cls, ns)
        return cls


def _format_scalar(v: Any, dt: np.dtype[Any]) -> str:
    if dt.kind == "f":
        digits = {2: 4, 4: 7, 8: 17}[dt.itemsize]
        return repr(float(f"{v:.{digits}g}")) if dt.itemsize < 8 else repr(v)
    return repr(v)


class TypedMessage(_core._RecordBase, metaclass=_MessageMeta):
    """Base of every typed message class. Declare one with ``@horus.message`` on a class
    with annotated fields, or by subclassing ``horus.TypedMessage`` (the spelling type
    checkers understand). Construct with the fields by position or by name (unset fields
    are zero or empty; also ``timestamp_ns=`` and ``frame_id=``).

    Class attributes of a declared message: ``fields`` (names in order), ``dtype`` (the
    NumPy structured dtype of the C layout), ``layout_hash``, ``layout_text``.
    """

    _horus_root = True
    fields: ClassVar[tuple[str, ...]]
    dtype: ClassVar[np.dtype[Any]]
    layout_hash: ClassVar[int]
    layout_text: ClassVar[str]

    if typing.TYPE_CHECKING:  # the C base's __init__ does the work (no Python frame per construction)

        def __init__(self, *args: Any, **fields: Any) -> None: ...

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (arrays as lists, nested messages as dicts)."""
        out: dict[str, Any] = {}
        for name in self.fields:
            v = getattr(self, name)
            if isinstance(v, TypedMessage):
                v = v.to_dict()
            elif isinstance(v, np.ndarray):
                v = v.tolist()
            out[name] = v
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """A new message from a dict of field values (nested messages may be dicts too)."""
        if not isinstance(values, dict):
            raise TypeError(f"{cls.__name__}.from_dict() expects a dict; got {type(values).__qualname__}")
        return cls(**values)

    def __repr__(self) -> str:
        parts = []
        for i, name in enumerate(self.fields):
            v = getattr(self, name)
            if isinstance(v, np.ndarray):
                s = np.array2string(v, separator=", ", threshold=8, edgeitems=3)
            elif isinstance(v, float):
                fields = typing.cast("MappingProxyType[str, tuple[np.dtype[Any], int]]", self.dtype.fields)
                s = _format_scalar(v, fields[name][0])
            else:
                s = repr(v)
            parts.append(f"{name}={s}")
        meta = ""
        if self.timestamp_ns:
            meta += f", timestamp_ns={self.timestamp_ns}"
        if self.frame_id:
            meta += f", frame_id={self.frame_id!r}"
        return f"{type(self).__name__}({', '.join(parts)}{meta})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_from_bytes, (type(self), bytes(memoryview(self)), self.timestamp_ns, self.frame_id))


def _from_bytes(cls: type[TypedMessage], data: bytes, timestamp_ns: int, frame_id: str) -> TypedMessage:
    obj = cls(timestamp_ns=timestamp_ns, frame_id=frame_id)
    view = np.frombuffer(obj, dtype=cls.dtype, count=1)  # type: ignore[call-overload]  # any buffer works; writable: obj is
    view[...] = np.frombuffer(data, dtype=cls.dtype, count=1)
    return obj


_T = typing.TypeVar("_T")


def message(cls: type[_T]) -> type[_T]:
    """Declares a typed message from a class with annotated fields (see horus.TypedMessage).

    Returns a new class of the same name (a TypedMessage subclass) that also keeps the
    methods and properties defined in the class body.
    """
    if not isinstance(cls, type):
        raise TypeError(f"@horus.message decorates a class; got {cls!r}")
    if issubclass(cls, TypedMessage):
        return cls
    ns = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    bases = tuple(b for b in cls.__bases__ if b is not object)
    if bases:
        raise TypeError(f"@horus.message class {cls.__name__} must not have base classes (got {bases})")
    return _MessageMeta(cls.__name__, (TypedMessage,), ns)  # type: ignore[return-value]


# ---- array fields and Tensors of records (called by the C core) ------------------------------


def _array_get(obj: Any, index: int) -> Any:
    el, count, offset, dims, kind, _cap = type(obj)._horus_arrays[index]
    a = np.frombuffer(obj, dtype=el, count=count, offset=offset).reshape(dims)
    if kind == "string":  # a copy: a tuple (of tuples), so that item assignment cannot be silently lost
        # Each element is its text up to the first NUL, as for a scalar string field and C++'s
        # String<N>::view() (receivers check that part is UTF-8).
        return _nested_tuple([b.split(b"\0", 1)[0].decode("utf-8", "replace") for b in a.reshape(-1)], dims)
    return a


def _nested_tuple(flat: list[str], dims: tuple[int, ...]) -> tuple[Any, ...]:
    if len(dims) == 1:
        return tuple(flat)
    step = len(flat) // dims[0]
    return tuple(_nested_tuple(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0]))


def _array_set(obj: Any, index: int, value: Any) -> None:
    cls = type(obj)
    el, count, offset, dims, kind, cap = cls._horus_arrays[index]
    where = f"{cls.__name__}.{cls.fields[index]}"
    target = np.frombuffer(obj, dtype=el, count=count, offset=offset).reshape(dims)
    if kind == "string":
        items = np.asarray(value, dtype=object) if not isinstance(value, str) else None
        if items is None or items.shape != dims:
            raise ValueError(f"{where} takes {dims} strings; got {_short(value)}")
        encoded = []
        for s in items.ravel():
            if not isinstance(s, str):
                raise TypeError(f"{where}: every entry must be a str; got {type(s).__qualname__} {_short(s)}")
            b = s.encode("utf-8", "strict")
            if len(b) > cap:
                raise ValueError(f"{where}: {s!r} is {len(b)} bytes in UTF-8, longer than the capacity of {cap} bytes")
            if b"\0" in b:
                raise ValueError(f"{where}: {s!r} must not contain NUL characters")
            encoded.append(b)
        target.reshape(-1)[:] = encoded
        return
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{where} takes an array of {el.name} with shape {dims}; got {type(value).__qualname__}")
    if el.kind in "iu" and not isinstance(value, np.ndarray):
        # Python ints beyond int64 (a uint64 near 2**64) would make np.asarray a float or
        # object array: check them as Python ints instead.
        objs = np.array(value, dtype=object)
        if objs.shape == dims and objs.size and all(
            isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in objs.flat
        ):
            info = np.iinfo(el)
            for x in objs.flat:
                if not info.min <= int(x) <= info.max:
                    raise ValueError(f"{where}: value {x!r} is out of range for {el.name} ({info.min} to {info.max})")
            target[...] = np.array([int(x) for x in objs.flat], dtype=el).reshape(dims)
            return
    try:
        src = np.asarray(value)
    except Exception as e:
        raise TypeError(f"{where} takes an array of {el.name} with shape {dims}; got {_short(value)} ({e})") from None
    if src.shape != dims:
        raise ValueError(f"{where} takes shape {dims}; got shape {src.shape} ({_short(value)})")
    ok = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}[el.kind]
    if src.dtype.kind not in ok:
        raise TypeError(f"{where} takes {el.name} values; got {src.dtype} values ({_short(value)})")
    if src.size and el.kind in "iu":
        info = np.iinfo(el)
        lo, hi = src.min(), src.max()
        if lo < info.min or hi > info.max:
            bad = lo if lo < info.min else hi
            raise ValueError(f"{where}: value {bad!r} is out of range for {el.name} ({info.min} to {info.max})")
    if src.size and el.kind == "f" and el.itemsize < 8:
        # Out of range = a finite value that becomes inf in the field's type (values that
        # round to its largest finite value are in range).
        with np.errstate(over="ignore", invalid="ignore"):
            bad = np.isinf(src.astype(el)) & (np.isfinite(src) if src.dtype.kind == "f" else True)
        if bad.any():
            v = src[bad].flat[0]
            raise ValueError(f"{where}: value {v!r} is out of range for {el.name} "
                             f"(-{np.finfo(el).max} to {np.finfo(el).max})")
    target[...] = src


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _records_view(arr: np.ndarray, layout_hash: int) -> np.ndarray:
    cls = _by_hash.get(layout_hash)
    if cls is None:
        return arr
    return arr.view(cls.dtype).reshape(arr.shape[:-1])


def _records_input(a: Any) -> tuple[np.ndarray, type[TypedMessage]]:
    dt = a.dtype
    matches = [c for c in _by_hash.values() if c.dtype == dt]
    if not matches:
        raise TypeError(
            f"Tensor.from_numpy: the structured dtype {dt} is not the dtype of a declared message; declare one "
            "with @horus.message (its .dtype is the dtype to use)"
        )
    if len({c.layout_hash for c in matches}) > 1:
        raise TypeError(
            f"Tensor.from_numpy: the dtype {dt} belongs to several messages ({', '.join(c.__name__ for c in matches)}); "
            "build the tensor with horus.Tensor.from_records(array, MessageClass)"
        )
    return _records_bytes(a), matches[0]


def _records_bytes(a: Any) -> np.ndarray:
    c: np.ndarray = np.ascontiguousarray(a)
    return c.view(np.uint8).reshape(c.shape + (c.dtype.itemsize,))
