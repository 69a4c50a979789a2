"""One bridge process per topic and namespace: TopicClaim.

A bridge recognises the messages it published itself (by their ring sequence numbers), but
not those another bridge process published: two bridges of one namespace, one bringing a
topic in and one sending it out, would send each message around for ever. So before a bridge
touches a topic in either direction it takes an exclusive flock(2) on
/dev/shm/horus.<namespace>.bridge.<topic>, and writes its pid there. The kernel drops the
lock when the process ends, however it ends; the file goes with the namespace (the last
process of a namespace unlinks all of its objects, and `horus clean` lists it).
"""

from __future__ import annotations

import fcntl
import os
from typing import Union

import horus

__all__ = ["TopicClaim"]


def _path(topic: str) -> str:
    return f"/dev/shm/horus.{horus.namespace()}.bridge.{topic}"


def _mode() -> int:
    text = os.environ.get("HORUS_SHM_MODE", "")
    try:
        mode = int(text, 8) if text else 0o600
    except ValueError:
        mode = 0o600
    return mode & 0o777 or 0o600


class TopicClaim:
    """An exclusive claim on one local topic, held until release() or the process ends."""

    def __init__(self, fd: int, path: str) -> None:
        self._fd, self.path = fd, path

    @classmethod
    def take(cls, topic: str) -> Union[TopicClaim, int]:
        """The claim, or the pid of the live bridge process that holds it (0 if unknown).
        OSError if the file cannot be opened (permissions, /dev/shm missing)."""
        path = _path(topic)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, _mode())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = int(os.pread(fd, 32, 0).split(b"\0")[0] or b"0")
            except (OSError, ValueError):
                holder = 0
            os.close(fd)
            return holder
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # drops the lock; the file stays for the next claimant
            self._fd = -1

    def __del__(self) -> None:
        self.release()
