"""horus C++ core: shared-memory pool and zero-copy message types.

Type stubs for the nanobind extension horus._core: generated with
`python -m nanobind.stubgen -m horus._core`, then given precise types
(see tests/test_stubs.py, which checks they match the module).
"""

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy
import numpy.typing

#: Anything from_numpy/from_torch accept: NumPy arrays, torch tensors, JAX arrays,
#: objects with __dlpack__ or the buffer protocol (CPU memory, numeric dtypes).
ArrayLike: TypeAlias = numpy.typing.ArrayLike | Any
#: bytes-like objects (buffer protocol, C-contiguous).
BytesLike: TypeAlias = bytes | bytearray | memoryview | numpy.ndarray[Any, Any]
#: One value per channel, or one number for all channels (fill).
PixelValues: TypeAlias = float | Sequence[float] | numpy.ndarray[Any, Any]


class HorusError(Exception):
    """Base class of horus errors."""

class PoolExhausted(HorusError, MemoryError):
    """The shared-memory pool cannot fit an allocation under its cap (HORUS_POOL_MAX_BYTES)."""

class ReadOnlyError(HorusError, ValueError):
    """A mutation of a shared message (sent or received); call copy() for a writable one."""

class ShmError(HorusError, OSError):
    """A shared-memory object is missing, corrupt or foreign."""

class StaleReference(HorusError):
    """A pool reference whose block was already freed."""


class Image:
    """
    Pool-backed camera image with zero-copy NumPy/PyTorch/JAX views.

    Image(height, width, encoding='rgb8') allocates an image in shared memory;
    its pixels are unspecified until written (like numpy.empty): use fill().
    """

    def __init__(self, height: int, width: int, encoding: str = 'rgb8') -> None: ...

    @staticmethod
    def from_numpy(array: ArrayLike, encoding: str | None = None) -> Image:
        """
        Copies an (H, W) or (H, W, C) array into a new pool image (no copy if it already views a pool block). The encoding is inferred from dtype and channels when omitted.
        """

    @staticmethod
    def from_torch(tensor: Any, encoding: str | None = None) -> Image:
        """Copies a CPU torch.Tensor (H, W) or (H, W, C) into a new pool image."""

    @staticmethod
    def from_bytes(data: BytesLike, height: int, width: int, encoding: str = 'rgb8') -> Image:
        """
        Copies raw bytes (exactly height*width*bytes_per_pixel) into a new pool image.
        """

    @property
    def height(self) -> int:
        """Image height in pixels."""

    @property
    def width(self) -> int:
        """Image width in pixels."""

    @property
    def channels(self) -> int:
        """Channels per pixel (3 for rgb8)."""

    @property
    def encoding(self) -> str:
        """Encoding name, e.g. 'rgb8'."""

    @property
    def step(self) -> int:
        """Row stride in bytes."""

    def pixel(self, x: int, y: int) -> list[int] | list[float]:
        """Channel values of pixel (x, y) as a list."""

    def set_pixel(self, x: int, y: int, values: PixelValues) -> None:
        """Sets pixel (x, y) to one value per channel."""

    def fill(self, values: PixelValues) -> None:
        """Sets every pixel to `values` (one per channel, or one for all)."""

    def copy_from(self, data: BytesLike) -> None:
        """
        Overwrites all pixels from a bytes-like object of exactly nbytes bytes.
        """

    def roi(self, x: int, y: int, w: int, h: int) -> bytes:
        """Bytes of the region [x, x+w) x [y, y+h), rows concatenated."""

    def __repr__(self) -> str: ...

    @property
    def dtype(self) -> str:
        """Element type name, e.g. 'uint8' or 'float32'."""

    @property
    def nbytes(self) -> int:
        """Payload size in bytes."""

    @property
    def frame_id(self) -> str:
        """
        Sensor frame identifier: text of at most 63 UTF-8 bytes.

        A received frame_id that is not UTF-8 (from a C++ publisher, say) is decoded
        with errors='replace': each ill-formed byte sequence reads as U+FFFD.
        """

    @property
    def timestamp_ns(self) -> int:
        """Timestamp in nanoseconds."""

    def set_frame_id(self, frame_id: str) -> None:
        """
        Sets the frame identifier: at most 63 UTF-8 bytes, no NUL (ValueError otherwise).
        """

    def set_timestamp_ns(self, timestamp_ns: int) -> None:
        """Sets the timestamp in nanoseconds (0..2^64-1)."""

    def is_cpu(self) -> bool:
        """True: payloads live in CPU shared memory."""

    @property
    def is_shared(self) -> bool:
        """
        True once the message was sent or if it was received: it is then read-only.
        """

    def data_ptr(self) -> int:
        """Address of the payload in this process (for zero-copy checks)."""

    def copy(self) -> Image:
        """A private, writable copy in a new pool block."""

    def to_numpy(self) -> numpy.ndarray[Any, numpy.dtype[Any]]:
        """
        Zero-copy NumPy view of the payload (read-only if the message is shared).
        """

    def to_torch(self) -> Any:
        """Zero-copy PyTorch tensor of the payload (via DLPack)."""

    def to_jax(self) -> Any:
        """Zero-copy JAX array of the payload (via DLPack)."""

    @property
    def __array_interface__(self) -> dict[str, Any]:
        """NumPy array interface (version 3) describing the payload in place."""

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None, dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """
        DLPack export (keyword-only: stream, max_version, dl_device, copy). Returns a versioned capsule when max_version >= (1, 0), else a legacy one; copy=True exports a private copy. stream must be None and dl_device None or (1, 0) (CPU memory): other values are a BufferError, values of the wrong type (copy not None/True/False, say) a TypeError.
        """

    def __dlpack_device__(self) -> tuple[int, int]:
        """(kDLCPU, 0): horus payloads live in CPU memory."""

class DepthImage:
    """
    Pool-backed depth image: float32 metres or uint16 millimetres.

    Values are unspecified until written (like numpy.empty).
    """

    def __init__(self, height: int, width: int, dtype: str = 'float32') -> None: ...

    @staticmethod
    def from_numpy(array: ArrayLike) -> DepthImage:
        """Copies an (H, W) float32 or uint16 array into a new depth image."""

    @staticmethod
    def from_torch(tensor: Any) -> DepthImage:
        """Copies an (H, W) float32 or uint16 CPU tensor into a new depth image."""

    @property
    def height(self) -> int:
        """Height in pixels."""

    @property
    def width(self) -> int:
        """Width in pixels."""

    @property
    def depth_scale(self) -> float:
        """Metres per stored unit: 1.0 (float32) or 0.001 (uint16)."""

    def is_meters(self) -> bool:
        """True for float32 depth in metres."""

    def is_millimeters(self) -> bool:
        """True for uint16 depth in millimetres."""

    def get_depth(self, x: int, y: int) -> float:
        """Depth at (x, y) in metres, whatever the storage."""

    def set_depth(self, x: int, y: int, depth: float) -> None:
        """
        Sets depth at (x, y) from metres (>= 0; uint16 images round to millimetres, max 65.535 m).
        """

    def depth_statistics(self) -> tuple[float, float, float] | None:
        """
        (min, max, mean) in metres over valid pixels (finite and > 0), or None if there are none.
        """

    def __repr__(self) -> str: ...

    @property
    def dtype(self) -> str:
        """Element type name, e.g. 'uint8' or 'float32'."""

    @property
    def nbytes(self) -> int:
        """Payload size in bytes."""

    @property
    def frame_id(self) -> str:
        """
        Sensor frame identifier: text of at most 63 UTF-8 bytes.

        A received frame_id that is not UTF-8 (from a C++ publisher, say) is decoded
        with errors='replace': each ill-formed byte sequence reads as U+FFFD.
        """

    @property
    def timestamp_ns(self) -> int:
        """Timestamp in nanoseconds."""

    def set_frame_id(self, frame_id: str) -> None:
        """
        Sets the frame identifier: at most 63 UTF-8 bytes, no NUL (ValueError otherwise).
        """

    def set_timestamp_ns(self, timestamp_ns: int) -> None:
        """Sets the timestamp in nanoseconds (0..2^64-1)."""

    def is_cpu(self) -> bool:
        """True: payloads live in CPU shared memory."""

    @property
    def is_shared(self) -> bool:
        """
        True once the message was sent or if it was received: it is then read-only.
        """

    def data_ptr(self) -> int:
        """Address of the payload in this process (for zero-copy checks)."""

    def copy(self) -> DepthImage:
        """A private, writable copy in a new pool block."""

    def to_numpy(self) -> numpy.ndarray[Any, numpy.dtype[Any]]:
        """
        Zero-copy NumPy view of the payload (read-only if the message is shared).
        """

    def to_torch(self) -> Any:
        """Zero-copy PyTorch tensor of the payload (via DLPack)."""

    def to_jax(self) -> Any:
        """Zero-copy JAX array of the payload (via DLPack)."""

    @property
    def __array_interface__(self) -> dict[str, Any]:
        """NumPy array interface (version 3) describing the payload in place."""

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None, dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """
        DLPack export (keyword-only: stream, max_version, dl_device, copy). Returns a versioned capsule when max_version >= (1, 0), else a legacy one; copy=True exports a private copy. stream must be None and dl_device None or (1, 0) (CPU memory): other values are a BufferError, values of the wrong type (copy not None/True/False, say) a TypeError.
        """

    def __dlpack_device__(self) -> tuple[int, int]:
        """(kDLCPU, 0): horus payloads live in CPU memory."""

class PointCloud:
    """
    Pool-backed point cloud of N points with F fields each (XYZ, XYZI, XYZRGB).

    Values are unspecified until written (like numpy.empty).
    """

    def __init__(self, num_points: int, fields: int = 3, dtype: str = 'float32') -> None: ...

    @staticmethod
    def from_numpy(array: ArrayLike) -> PointCloud:
        """Copies an (N, F) float array into a new point cloud."""

    @staticmethod
    def from_torch(tensor: Any) -> PointCloud:
        """Copies an (N, F) float CPU tensor into a new point cloud."""

    @property
    def point_count(self) -> int:
        """Number of points."""

    @property
    def fields_per_point(self) -> int:
        """Values per point (3 = XYZ, 4 = XYZI, 6 = XYZRGB)."""

    def is_xyz(self) -> bool:
        """True if there are exactly 3 fields (XYZ)."""

    def has_intensity(self) -> bool:
        """True if there are 4 or more fields (XYZI)."""

    def has_color(self) -> bool:
        """True if there are 6 or more fields (XYZRGB)."""

    def point_at(self, index: int) -> list[float]:
        """The fields of point `index` as a list of floats (float32 clouds)."""

    def __repr__(self) -> str: ...

    @property
    def dtype(self) -> str:
        """Element type name, e.g. 'uint8' or 'float32'."""

    @property
    def nbytes(self) -> int:
        """Payload size in bytes."""

    @property
    def frame_id(self) -> str:
        """
        Sensor frame identifier: text of at most 63 UTF-8 bytes.

        A received frame_id that is not UTF-8 (from a C++ publisher, say) is decoded
        with errors='replace': each ill-formed byte sequence reads as U+FFFD.
        """

    @property
    def timestamp_ns(self) -> int:
        """Timestamp in nanoseconds."""

    def set_frame_id(self, frame_id: str) -> None:
        """
        Sets the frame identifier: at most 63 UTF-8 bytes, no NUL (ValueError otherwise).
        """

    def set_timestamp_ns(self, timestamp_ns: int) -> None:
        """Sets the timestamp in nanoseconds (0..2^64-1)."""

    def is_cpu(self) -> bool:
        """True: payloads live in CPU shared memory."""

    @property
    def is_shared(self) -> bool:
        """
        True once the message was sent or if it was received: it is then read-only.
        """

    def data_ptr(self) -> int:
        """Address of the payload in this process (for zero-copy checks)."""

    def copy(self) -> PointCloud:
        """A private, writable copy in a new pool block."""

    def to_numpy(self) -> numpy.ndarray[Any, numpy.dtype[Any]]:
        """
        Zero-copy NumPy view of the payload (read-only if the message is shared).
        """

    def to_torch(self) -> Any:
        """Zero-copy PyTorch tensor of the payload (via DLPack)."""

    def to_jax(self) -> Any:
        """Zero-copy JAX array of the payload (via DLPack)."""

    @property
    def __array_interface__(self) -> dict[str, Any]:
        """NumPy array interface (version 3) describing the payload in place."""

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None, dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """
        DLPack export (keyword-only: stream, max_version, dl_device, copy). Returns a versioned capsule when max_version >= (1, 0), else a legacy one; copy=True exports a private copy. stream must be None and dl_device None or (1, 0) (CPU memory): other values are a BufferError, values of the wrong type (copy not None/True/False, say) a TypeError.
        """

    def __dlpack_device__(self) -> tuple[int, int]:
        """(kDLCPU, 0): horus payloads live in CPU memory."""

class Tensor:
    """
    Pool-backed n-dimensional array (0-8 dims, any common dtype): the generic message for data that is not an image, depth image or point cloud.

    Values are unspecified until written (like numpy.empty).
    """

    def __init__(self, shape: int | Sequence[int], dtype: str = 'float32') -> None: ...

    @staticmethod
    def from_numpy(array: ArrayLike) -> Tensor:
        """
        Copies any CPU array into a new pool tensor (no copy if it already views a pool block).
        """

    @staticmethod
    def from_torch(tensor: Any) -> Tensor:
        """Copies a CPU torch.Tensor into a new pool tensor."""

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape as a tuple of ints."""

    @property
    def ndim(self) -> int:
        """Number of dimensions."""

    def __repr__(self) -> str: ...

    @property
    def dtype(self) -> str:
        """Element type name, e.g. 'uint8' or 'float32'."""

    @property
    def nbytes(self) -> int:
        """Payload size in bytes."""

    @property
    def frame_id(self) -> str:
        """
        Sensor frame identifier: text of at most 63 UTF-8 bytes.

        A received frame_id that is not UTF-8 (from a C++ publisher, say) is decoded
        with errors='replace': each ill-formed byte sequence reads as U+FFFD.
        """

    @property
    def timestamp_ns(self) -> int:
        """Timestamp in nanoseconds."""

    def set_frame_id(self, frame_id: str) -> None:
        """
        Sets the frame identifier: at most 63 UTF-8 bytes, no NUL (ValueError otherwise).
        """

    def set_timestamp_ns(self, timestamp_ns: int) -> None:
        """Sets the timestamp in nanoseconds (0..2^64-1)."""

    def is_cpu(self) -> bool:
        """True: payloads live in CPU shared memory."""

    @property
    def is_shared(self) -> bool:
        """
        True once the message was sent or if it was received: it is then read-only.
        """

    def data_ptr(self) -> int:
        """Address of the payload in this process (for zero-copy checks)."""

    def copy(self) -> Tensor:
        """A private, writable copy in a new pool block."""

    def to_numpy(self) -> numpy.ndarray[Any, numpy.dtype[Any]]:
        """
        Zero-copy NumPy view of the payload (read-only if the message is shared).
        """

    def to_torch(self) -> Any:
        """Zero-copy PyTorch tensor of the payload (via DLPack)."""

    def to_jax(self) -> Any:
        """Zero-copy JAX array of the payload (via DLPack)."""

    @property
    def __array_interface__(self) -> dict[str, Any]:
        """NumPy array interface (version 3) describing the payload in place."""

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None, dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """
        DLPack export (keyword-only: stream, max_version, dl_device, copy). Returns a versioned capsule when max_version >= (1, 0), else a legacy one; copy=True exports a private copy. stream must be None and dl_device None or (1, 0) (CPU memory): other values are a BufferError, values of the wrong type (copy not None/True/False, say) a TypeError.
        """

    def __dlpack_device__(self) -> tuple[int, int]:
        """(kDLCPU, 0): horus payloads live in CPU memory."""

class PoolStats:
    """A snapshot of the shared-memory pool (see horus.pool_stats())."""

    @property
    def namespace(self) -> str:
        """HORUS_NAMESPACE of this process."""

    @property
    def blocks_in_use(self) -> int:
        """Blocks held by any process or topic slot."""

    @property
    def bytes_in_use(self) -> int:
        """Bytes of the blocks in use."""

    @property
    def blocks_total(self) -> int:
        """Blocks in all segments."""

    @property
    def capacity_bytes(self) -> int:
        """Payload bytes of all segments."""

    @property
    def reserved_bytes(self) -> int:
        """Shared memory reserved, headers included."""

    @property
    def max_bytes(self) -> int:
        """The cap (HORUS_POOL_MAX_BYTES)."""

    @property
    def segments(self) -> int:
        """Number of shared-memory segments."""

    @property
    def processes(self) -> int:
        """Live processes attached to the namespace."""

    @property
    def local_blocks(self) -> int:
        """Blocks this process holds."""

    @property
    def reclaimed_processes(self) -> int:
        """Dead processes whose references were reclaimed so far."""

    def as_dict(self) -> dict[str, int | str]:
        """The statistics as a dict."""

    def __repr__(self) -> str: ...

def pool_stats() -> PoolStats:
    """
    Blocks and bytes in use, capacity and segments of the shared-memory pool.
    """

def reclaim() -> int:
    """
    Releases every reference held by processes that died, tears down topics all of whose users died, and repairs topic reference counts left by a publisher killed inside send(); returns how many processes, topics and block words were reclaimed.
    """

def namespace() -> str:
    """The shared-memory namespace of this process."""

def block_ref(msg: object | None) -> tuple:
    """
    Where a message's payload lives in the pool: (segment, block, generation, offset). Unlike data_ptr() it is the same in every process, so equal values on both sides of a topic show that no copy was made.
    """

class Topic:
    """
    A named publish/subscribe channel in shared memory.

    Topic(Image) uses the default name 'image' (the lowercase type name). One Topic
    both sends and receives; it receives everything sent on its name after it was
    created, by any process (itself included). A subscriber that falls more than
    `capacity` messages behind loses the oldest ones; `dropped` counts them.

    A message is kept until every subscribing Topic has read it, then its pool block
    is recycled. A Topic that sends before it ever calls recv()/try_recv() is a
    publisher and keeps nothing for itself (if it reads later, what was recycled
    meanwhile counts in `dropped`); the newest message is always kept.

    capacity (a power of two up to 65536) is fixed by whoever creates the topic; the
    default is 8 for Image, DepthImage and PointCloud (each slot keeps its message's
    block alive, so rings of big messages stay short) and 64 for Tensor or a topic
    first opened by name only. Opening an existing topic with another capacity is a
    ValueError.
    """

    def __init__(self, message_type: object | None, name: str | None = None, capacity: int | None = None) -> None: ...

    def send(self, msg: object | None) -> None:
        """
        Publishes `msg` without copying its payload. The message becomes shared: mutating it afterwards raises ReadOnlyError (use copy()).
        """

    def try_recv(self) -> object:
        """The next message, or None if nothing is waiting. Never blocks."""

    def recv(self, timeout: object | None = None) -> object:
        """
        The next message. Without timeout (None) it returns None at once when nothing is waiting; with timeout= seconds (an int or float >= 0; float('inf') waits until a message comes) it waits up to that long: it polls for at most HORUS_RECV_SPIN_US microseconds (default 50), then sleeps until a send wakes it. Ctrl-C interrupts the wait.
        """

    @property
    def name(self) -> str:
        """Topic name."""

    @property
    def capacity(self) -> int:
        """
        Ring slots: how far a subscriber may fall behind before losing messages.
        """

    @property
    def message_type(self) -> object:
        """The message class this topic carries (None if not known yet)."""

    @property
    def dropped(self) -> int:
        """
        Messages this subscriber lost because it fell more than capacity behind.
        """

    @property
    def published(self) -> int:
        """Messages sent on this topic by anyone since it was created."""

    @property
    def pending(self) -> int:
        """Messages waiting for this subscriber (at most capacity)."""

    def __repr__(self) -> str: ...

#: encoding name -> (channels, bytes per pixel, dtype name), as in the spec's table.
ENCODINGS: dict[str, tuple[int, int, str]] = ...
