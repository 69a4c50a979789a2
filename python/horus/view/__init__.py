"""Live view of horus topics in Foxglove, over the Foxglove WebSocket protocol.

``horus.view.serve()`` (or ``LiveView`` for use inside a program) starts a WebSocket server
(foxglove-sdk) and makes each horus topic one channel, with the same schema as a recording
(horus._foxglove): images and depth images as foxglove.RawImage, point clouds as
foxglove.PointCloud, typed messages as JSON, ... Open Foxglove, "Open connection",
ws://localhost:8765. The view is an ordinary subscriber; it encodes nothing for a channel no
client is subscribed to, and it drops rather than queues when it or a client falls behind.
"""

from __future__ import annotations

import errno
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import Any

import foxglove
from foxglove.websocket import ChannelView, Client, ServerListener

import horus

from horus.view._stats import TopicViewStats, ViewStats
from horus.view._worker import TopicWorker

__all__ = ["LiveView", "TopicViewStats", "ViewStats", "serve"]

_log = logging.getLogger("horus.view")

#: Seconds between two looks at horus.topics() for new topics.
DISCOVERY_INTERVAL_S = 0.25

#: Messages the WebSocket server buffers per client before it drops the oldest (the SDK's
#: default, 1024, would be a gigabyte of camera frames for one slow client).
CLIENT_BACKLOG = 32


def _check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int from 0 to 65535 (0 = any free port); got {port!r}")
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range: it must be from 0 to 65535 (0 = any free port)")
    return port


def _check_host(host: object) -> str:
    if not isinstance(host, str) or not host:
        raise TypeError(f"host must be a non-empty str such as '127.0.0.1' or '0.0.0.0'; got {host!r}")
    return host


def _check_topics(topics: object) -> list[str] | None:
    if topics is None:
        return None
    if isinstance(topics, (str, bytes)):
        raise TypeError(f"topics must be a list of topic names (or None for every topic), not {topics!r}")
    if not isinstance(topics, Iterable):
        raise TypeError(f"topics must be a list of topic names (or None for every topic); got {topics!r}")
    names: list[str] = []
    for name in topics:
        if not isinstance(name, str) or not name:
            raise TypeError(f"each topic must be a non-empty str; got {name!r} in {topics!r}")
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("topics is an empty list: name at least one topic, or pass None for every topic")
    return names


class _Listener(ServerListener):
    """The WebSocket server's callbacks: who is subscribed to which channel."""

    def __init__(self, view: LiveView) -> None:
        self._view = view

    def on_subscribe(self, client: Client, channel: ChannelView) -> None:
        worker = self._view._worker_for_channel(channel.id)
        if worker is not None:
            worker.on_subscribe(client.id)

    def on_unsubscribe(self, client: Client, channel: ChannelView) -> None:
        worker = self._view._worker_for_channel(channel.id)
        if worker is not None:
            worker.on_unsubscribe(client.id)


class LiveView:
    """Serves horus topics to Foxglove while started.

    topics: the horus topic names to serve, or None for every topic of this namespace
    (horus.topics()), including topics that appear later. A named topic that does not exist yet
    is opened when it appears. port: 0 picks a free port (read it from .port). host: the address
    to listen on ("0.0.0.0" for every interface; the default serves this machine only).

    ``with LiveView(["camera"]) as view: ...`` starts and stops it.
    """

    def __init__(
        self,
        topics: Iterable[str] | None = None,
        *,
        port: int = 8765,
        host: str = "127.0.0.1",
    ) -> None:
        self._names = _check_topics(topics)
        self._requested_port = _check_port(port)
        self._host = _check_host(host)
        self._server: Any = None
        self._context: foxglove.Context | None = None
        self._workers: dict[str, TopicWorker] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._discovery: threading.Thread | None = None
        self._port = 0
        self._final: ViewStats | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> LiveView:
        """Starts the server and the topic threads; returns at once. A second start() is an error."""
        if self._server is not None or self._final is not None:
            raise RuntimeError("this LiveView was already started; make a new one")
        self._context = foxglove.Context()
        name = f"horus ({horus.namespace()})"
        try:
            self._server = foxglove.start_server(
                name=name,
                host=self._host,
                port=self._requested_port,
                context=self._context,
                server_listener=_Listener(self),
                message_backlog_size=CLIENT_BACKLOG,
            )
        except RuntimeError as e:
            self._context = None
            text = str(e)
            if "in use" in text:
                raise OSError(
                    errno.EADDRINUSE,
                    f"port {self._requested_port} on {self._host} is already in use (another horus view or "
                    f"Foxglove bridge?); choose another port, or 0 for any free one",
                ) from e
            raise OSError(f"cannot listen on host {self._host!r}, port {self._requested_port}: {text}") from e
        self._port = int(self._server.port)
        self._discovery = threading.Thread(target=self._discover, name="horus.view:discovery", daemon=True)
        self._discovery.start()
        _log.info("horus view serving on ws://%s:%d", self._host, self._port)
        return self

    def stop(self) -> None:
        """Stops the topic threads and the server; releases every message held. Idempotent."""
        if self._server is None:
            return
        self._stop.set()
        if self._discovery is not None:
            self._discovery.join()
            self._discovery = None
        with self._lock:
            workers = list(self._workers.values())
        for w in workers:
            w.stop()
        for w in workers:
            w.join()
        self._final = ViewStats(port=self._port, topics={w.name: w.stats() for w in workers})
        with self._lock:
            self._workers.clear()
        self._server.stop()
        self._server = None
        self._context = None

    def __enter__(self) -> LiveView:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- what it shows -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (the one picked when port=0); 0 before start()."""
        return self._port

    @property
    def host(self) -> str:
        return self._host

    @property
    def url(self) -> str:
        """ws://host:port to type into Foxglove's "Open connection" dialog."""
        host = "localhost" if self._host in ("127.0.0.1", "0.0.0.0", "::", "::1") else self._host
        return f"ws://{host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def stats(self) -> ViewStats:
        """Counters per topic (see TopicViewStats); after stop(), the final ones."""
        if self._final is not None and self._server is None:
            return self._final
        with self._lock:
            workers = list(self._workers.values())
        return ViewStats(port=self._port, topics={w.name: w.stats() for w in workers})

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.running else "stopped"
        return f"LiveView({self._names!r}, {state})"

    # ---- internals -----------------------------------------------------------------------

    def _add(self, name: str) -> None:
        with self._lock:
            if name in self._workers or self._stop.is_set():
                return
            assert self._context is not None
            worker = TopicWorker(name, self._context)
            self._workers[name] = worker
        worker.start()

    def _worker_for_channel(self, channel_id: int) -> TopicWorker | None:
        with self._lock:
            for w in self._workers.values():
                if w.channel_id == channel_id:
                    return w
        return None

    def _discover(self) -> None:
        """Opens each wanted topic once it exists: opening a name first would create the topic
        with the by-name default capacity instead of its publisher's."""
        wanted = None if self._names is None else set(self._names)
        while True:
            try:
                infos = horus.topics()
            except Exception as e:  # a namespace being torn down; try again
                _log.debug("horus.topics() failed: %s", e)
                infos = []
            for info in infos:
                if wanted is None or info.name in wanted:
                    self._add(info.name)
            if self._stop.wait(DISCOVERY_INTERVAL_S):
                return


def serve(
    topics: list[str] | None = None,
    *,
    port: int = 8765,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
    ready: Callable[[int], None] | None = None,
) -> ViewStats:
    """Serves horus topics to Foxglove until `stop` is set, or SIGINT/SIGTERM arrives.

    topics: names, or None for every topic (new ones are picked up as they appear).
    port: 0 picks a free port. ready(port) is called once the server listens, with the real port.
    Returns the final counters.
    """
    view = LiveView(topics, port=port, host=host)
    stop_event = stop if stop is not None else threading.Event()
    restore: list[tuple[signal.Signals, Any]] = []
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop_event.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if previous in (signal.SIG_DFL, signal.default_int_handler):
                restore.append((sig, signal.signal(sig, on_signal)))
    try:
        view.start()
        try:
            if ready is not None:
                ready(view.port)
            while not stop_event.wait(0.2):
                pass
        finally:
            view.stop()
    finally:
        for sig, previous in restore:
            signal.signal(sig, previous)
    return view.stats
