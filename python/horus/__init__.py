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

from horus._node import Node, NodeStats
from horus._scheduler import NodeError, run
from horus._version import __version__  # written by CMake from the VERSION file

import os as _os

# After fork() parent and child share every payload either held: both see those
# messages read-only (the core seals the blocks), and the NumPy views exported so far
# are made read-only here, before the fork.
_os.register_at_fork(before=_core_seal_all_views)

#: The spec's name for the generic tensor message.
GenericMessage = Tensor

__all__ = [
    "ENCODINGS",
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
    "Node",
    "NodeError",
    "NodeStats",
    "run",
    "block_ref",
    "namespace",
    "pool_stats",
    "reclaim",
]
