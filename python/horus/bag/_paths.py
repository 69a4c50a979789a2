"""Opening a recording's path without ever blocking: a recording is read from a regular file
only, and written to a regular file (or a character device such as /dev/null). A named pipe,
socket, directory or other device is a BagError naming the path, found with os.stat and an
O_NONBLOCK open (open() of a FIFO would otherwise wait for the other end forever)."""

from __future__ import annotations

import fcntl
import io
import os
import stat

from horus.bag._errors import BagError, describe

__all__ = ["open_regular", "open_for_writing"]


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _not_writable(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "Is a directory"
    return (f"Is {_kind(mode)}; recordings are written to regular files (or to a character device such as "
            "/dev/null)")


def _blocking(fd: int) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)


def open_regular(path: str) -> io.BufferedReader:
    """`path` opened for reading; BagError unless it is a regular file (missing, a FIFO, ...)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BagError(f"{path}: no such file") from None
    except OSError as e:
        raise BagError(f"{path}: cannot open: {describe(e)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise BagError(f"{path}: is {_kind(st.st_mode)}, not an MCAP file (recordings are read from regular files)")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BagError(f"{path}: no such file") from None
    except OSError as e:
        raise BagError(f"{path}: cannot open: {describe(e)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the stat and the open
            raise BagError(f"{path}: is {_kind(mode)}, not an MCAP file (recordings are read from regular files)")
        _blocking(fd)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_for_writing(path: str) -> io.BufferedWriter:
    """`path` created (or truncated) for writing; BagError naming it unless it is (or becomes) a
    regular file or a character device (/dev/null). Never blocks on a FIFO."""
    what = f"{path}: cannot write"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise BagError(f"{what}: {describe(e)}") from None
    else:
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            raise BagError(f"{what}: {_not_writable(st.st_mode)}")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as e:
        raise BagError(f"{what}: {describe(e)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
            raise BagError(f"{what}: {_not_writable(mode)}")
        _blocking(fd)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
