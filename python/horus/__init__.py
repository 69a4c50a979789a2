"""horus — zero-copy shared-memory messages for robotics and ML pipelines.

Images, depth images, point clouds and tensors live in a shared-memory pool.
They open in NumPy, PyTorch and JAX without a copy, and move between threads
and processes by passing a small descriptor, never the pixels.
"""

from horus._core import (
    ENCODINGS,
    DepthImage,
    HorusError,
    Image,
    PointCloud,
    PoolExhausted,
    PoolStats,
    ReadOnlyError,
    ShmError,
    StaleReference,
    Tensor,
    Topic,
    block_ref,
    namespace,
    pool_stats,
    reclaim,
)
from horus._core import _seal_all_views as _core_seal_all_views

from horus._message import TypedMessage, array, message, record_class, string
from horus import msg
from horus.msg import (
    BatteryState,
    CmdVel,
    Imu,
    JointState,
    LaserScan,
    Odometry,
    Pose,
    Pose2D,
    TransformStamped,
    Twist,
)
from horus._node import FailurePolicy, Miss, Node, NodeStats, ms, us
from horus._scheduler import NodeError, run
from horus._discovery import Endpoint, NodeInfo, TopicInfo, nodes, topic_info, topics
from horus._version import __version__  # written by CMake from the VERSION file

import os as _os
import typing as _typing
import types as _types

# After fork() parent and child share every payload either held: both see those
# messages read-only (the core seals the blocks), and the NumPy views exported so far
# are made read-only here, before the fork.
_os.register_at_fork(before=_core_seal_all_views)

#: The spec's name for the generic tensor message.
GenericMessage = Tensor


class _TensorOf:
    """``horus.Tensor[Detection]``: the type of a topic of Tensors of Detection records."""

    __slots__ = ("__horus_tensor_of__",)

    def __init__(self, record_type: type) -> None:
        if not (isinstance(record_type, type) and issubclass(record_type, TypedMessage)):
            raise TypeError(f"Tensor[...] takes a @horus.message class; got {record_type!r}")
        self.__horus_tensor_of__ = record_type

    __origin__ = Tensor

    def __repr__(self) -> str:
        return f"horus.Tensor[{self.__horus_tensor_of__.__name__}]"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TensorOf) and other.__horus_tensor_of__ is self.__horus_tensor_of__

    def __hash__(self) -> int:
        return hash((Tensor, self.__horus_tensor_of__))


def _tensor_class_getitem(cls: type, record_type: type) -> _TensorOf:
    return _TensorOf(record_type)


def _tensor_from_records(array: object, message_type: type) -> Tensor:
    """A Tensor of `message_type` records from a structured array of its dtype (one copy)."""
    import numpy as _np

    from horus._message import _records_bytes

    if not (isinstance(message_type, type) and issubclass(message_type, TypedMessage)):
        raise TypeError(f"Tensor.from_records(array, message_type): message_type must be a @horus.message class; got {message_type!r}")
    a = _np.asarray(array)
    if a.dtype != message_type.dtype:
        raise TypeError(f"Tensor.from_records: the array's dtype {a.dtype} is not {message_type.__name__}.dtype {message_type.dtype}")
    t = Tensor.from_numpy(_records_bytes(a))
    t._set_record_type(message_type)
    return t


Tensor.__class_getitem__ = classmethod(_tensor_class_getitem)  # type: ignore[attr-defined]
Tensor.from_records = staticmethod(_tensor_from_records)  # type: ignore[method-assign]
# horus.Topic[Image] at run time (annotations evaluated when defined, typing.get_type_hints):
# a types.GenericAlias, the standard library's own idiom for generic classes. The stub
# declares Topic(Generic[M]). Topic[Image](...) only calls Topic(...): write Topic(Image, "name").
Topic.__class_getitem__ = classmethod(_types.GenericAlias)  # type: ignore[attr-defined]

__all__ = [
    "ENCODINGS",
    "TypedMessage",
    "array",
    "message",
    "msg",
    "record_class",
    "string",
    "BatteryState",
    "CmdVel",
    "Imu",
    "JointState",
    "LaserScan",
    "Odometry",
    "Pose",
    "Pose2D",
    "TransformStamped",
    "Twist",
    "DepthImage",
    "GenericMessage",
    "HorusError",
    "Image",
    "PointCloud",
    "PoolExhausted",
    "PoolStats",
    "ReadOnlyError",
    "ShmError",
    "StaleReference",
    "Tensor",
    "Topic",
    "FailurePolicy",
    "Miss",
    "Node",
    "NodeError",
    "NodeStats",
    "ms",
    "us",
    "run",
    "Endpoint",
    "NodeInfo",
    "TopicInfo",
    "nodes",
    "topic_info",
    "topics",
    "block_ref",
    "namespace",
    "pool_stats",
    "reclaim",
]

__all__ += ["Bridge"]

if _typing.TYPE_CHECKING:
    from horus.bridge import Bridge


def __getattr__(name: str) -> object:
    # horus.Bridge without importing the bridge (and Zenoh) on every `import horus`.
    if name == "Bridge":
        from horus.bridge import Bridge

        return Bridge
    raise AttributeError(f"module 'horus' has no attribute {name!r}")
