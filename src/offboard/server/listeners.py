"""The daemon's listeners: uvicorn hardened against slow clients, with TLS that follows its files.

Measured before this module: 300 half-open connections (a request line and one header, never
finished) stayed open forever; at the descriptor limit ``/healthz`` and webhooks timed out and
asyncio wrote megabytes of ``socket.accept()`` tracebacks. Here:

* :class:`HeaderTimeoutProtocol` closes a connection whose request headers are not complete
  ``header_timeout`` seconds after it opened (or after its previous response);
* uvicorn's own keep-alive timeout and concurrency limit are always set;
* :func:`raise_open_file_limit` lifts ``RLIMIT_NOFILE`` to the hard limit at start;
* :class:`AcceptErrorFilter` logs accept errors at most once per interval, with a count;
* :class:`RepeatFilter` does the same for uvicorn's line per refused request (a malformed
  request line, too many connections), which a client could otherwise repeat into the log
  as fast as it sends; uvicorn's lines go through the daemon's JSON log (no own handler);
* :class:`ReloadingTLS` serves the certificate and key files, re-read when they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = structlog.get_logger(__name__)

OPEN_FILES_WANTED = 65_536


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for each request's headers."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm(None)

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm(self.cycle)  # a new request starts on this connection
        waiting_for = self.cycle
        super().data_received(data)
        if self.cycle is not waiting_for:  # the headers are in: a new request cycle began
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, cycle: object) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire, cycle)

    def _disarm(self) -> None:
        timer, self._header_timer = getattr(self, "_header_timer", None), None
        if timer is not None:
            timer.cancel()

    def _expire(self, cycle: object) -> None:
        self._header_timer = None
        if self.cycle is cycle and not self.transport.is_closing():
            self.transport.close()


def protocol_with(header_timeout: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class with this header timeout (uvicorn instantiates it itself)."""
    return type(
        "HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout}
    )


def raise_open_file_limit(wanted: int = OPEN_FILES_WANTED) -> tuple[int, int]:
    """Lift the soft ``RLIMIT_NOFILE`` towards ``wanted`` (never past the hard limit).

    Returns the soft limit before and after; an unchangeable limit is left as it is.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target <= soft:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, target


class Throttle:
    """Lets a key through at most once per ``interval`` seconds, counting what it holds back:
    a line repeated as fast as a client (or a loop out of descriptors) can repeat it is
    logged once per interval, with how many were left out."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def let_through(self, key: str = "") -> int | None:
        """None when ``key`` passed less than ``interval`` ago (one more held back); else
        how many were held back since it last passed."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)

    def held(self, key: str = "") -> int:
        """How many were held back since ``key`` last passed."""
        return self._held.get(key, 0)


class AcceptErrorFilter:
    """An asyncio exception handler that logs accept failures once per ``interval`` seconds.

    Out of descriptors, every accept fails again as soon as asyncio retries; each failure
    came with a full traceback. Other errors go to the handler that was there before.
    """

    def __init__(
        self,
        previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None = None,
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._previous = previous
        self._throttle = Throttle(interval, clock)
        self.logged = 0

    @property
    def suppressed(self) -> int:
        """Accept failures left out since the last line."""
        return self._throttle.held()

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "accept" not in str(context.get("message", "")):
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        left_out = self._throttle.let_through()
        if left_out is None:
            return
        error = context.get("exception")
        log.error(
            "cannot accept connections",
            error=type(error).__name__ if error else context.get("message"),
            detail=os.strerror(error.errno) if isinstance(error, OSError) and error.errno else "",
            suppressed_since_last=left_out,
        )
        self.logged += 1

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop) -> AcceptErrorFilter:
        """Put a filter in front of the loop's current exception handler."""
        handler = cls(loop.get_exception_handler())
        loop.set_exception_handler(handler)
        return handler


class ReloadingTLS:
    """A server ``SSLContext`` for a certificate and key file, re-read when either changes.

    Reloading happens in place: new connections get the new certificate, open ones keep
    theirs. A file caught half-written fails to load; the old pair stays until the next check.
    """

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(cert_file), str(key_file))
        self._stamp = self._current_stamp()
        self.reloads = 0

    def _current_stamp(self) -> tuple[int, ...]:
        stats = (self.cert_file.stat(), self.key_file.stat())
        return tuple(value for s in stats for value in (s.st_mtime_ns, s.st_size, s.st_ino))

    def check(self) -> bool:
        """Reload when the files changed; True when a new pair was loaded."""
        try:
            stamp = self._current_stamp()
            if stamp == self._stamp:
                return False
            self.context.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (OSError, ssl.SSLError) as error:
            log.warning("TLS files not reloaded; keeping the previous pair", error=str(error))
            return False
        self._stamp = stamp
        self.reloads += 1
        log.info("TLS certificate reloaded", cert_file=str(self.cert_file))
        return True

    async def watch(self, every: float = 5.0) -> None:
        """Check the files every ``every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(every)
            self.check()


class RepeatFilter(logging.Filter):
    """Lets each message template through at most once per ``interval`` seconds; the next
    one that passes carries ``suppressed_since_last``."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self._throttle = Throttle(interval, clock)

    def filter(self, record: logging.LogRecord) -> bool:
        # The template (uvicorn's few), not the formatted line.
        left_out = self._throttle.let_through(str(record.msg)[:200])
        if left_out is None:
            return False
        record.suppressed_since_last = left_out
        return True

    @classmethod
    def install(cls, logger: logging.Logger) -> RepeatFilter:
        """One filter on ``logger`` (several listeners share it)."""
        for existing in logger.filters:
            if isinstance(existing, cls):
                return existing
        added = cls()
        logger.addFilter(added)
        return added


@dataclass(frozen=True, slots=True)
class Limits:
    """What every listener enforces (``[daemon]`` settings)."""

    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000
    shutdown_timeout: float = 2.0


class Listener(uvicorn.Server):
    """A uvicorn server without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


def listener(
    app: Any,
    host: str,
    port: int,
    limits: Limits,
    tls: ReloadingTLS | None = None,
) -> Listener:
    """One hardened listener for ``app``; ``tls`` makes it HTTPS with that context."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_with(limits.header_timeout),
        log_level="warning",
        log_config=None,  # no handler of uvicorn's own: its lines join the daemon's log
        lifespan="off",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=max(1, round(limits.keep_alive_timeout)),
        limit_concurrency=limits.max_connections,
        timeout_graceful_shutdown=max(1, round(limits.shutdown_timeout)),
    )
    config.load()
    RepeatFilter.install(logging.getLogger("uvicorn.error"))
    if tls is not None:
        config.ssl = tls.context
    return Listener(config)
