"""httpcore's network layer on asyncio's own transports, for our clients' pool.

httpcore speaks to the network through a backend; on asyncio its default is AnyIO's, whose
every read and write enters a cancel scope, a resource guard and a checkpoint: about a fifth
of the client CPU of a small request (``benchmarks/bench_http_overhead.py``). This backend does
the same work on an asyncio protocol: bytes land in a buffer as the event loop receives them,
a read takes them or waits for the next arrival under ``asyncio.timeout``.

What it keeps of httpcore's contract:

* errors mapped to httpcore's (``ConnectError``, ``ReadTimeout``...), which httpx maps on;
* an empty read at the end of the connection;
* ``is_readable`` for the pool's liveness check of idle connections: true once the server
  closed the connection *or sent anything* (a stray ``408`` before closing must never be
  taken as the answer to the next request);
* a request's writes held until its answer is read, and sent as one (see ``Stream.write``);
* TLS by asyncio's ``start_tls`` with the context the pool gives, verified as httpx verifies.

Proxies keep httpx's own transport (``transport.proxied_transport``) and so AnyIO's backend.
The ``timeout`` parameters are httpcore's interface (hence ``noqa: ASYNC109``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore

HOLD_AT_MOST = 64 * 1024
"""Bytes of a request held back at most before they are sent (a large body goes at once)."""
READ_AHEAD = 256 * 1024
"""Bytes received and not yet read past which the socket is no longer read (flow control)."""
HAPPY_EYEBALLS_DELAY = 0.25
"""Seconds before a host's next address is tried alongside (RFC 8305's default; AnyIO's)."""
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)
"""httpcore's socket option shape."""


class Connection(asyncio.Protocol):
    """One connection's received bytes, its end, and its write flow control."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.ended = False
        self.error: Exception | None = None
        self._arrival: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading_paused = False

    # asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) > READ_AHEAD and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        _wake(self._arrival)

    def eof_received(self) -> bool:
        self.ended = True
        _wake(self._arrival)
        return False  # the transport closes itself: HTTP/1.1 has no use for a half-open one

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        _wake(self._arrival)
        _wake(self._drained)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        _wake(self._drained)
        self._drained = None

    # what the stream asks

    @property
    def is_readable(self) -> bool:
        """Whether a read would return at once: bytes waiting, or the connection's end."""
        return bool(self.received) or self.ended

    async def receive(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` received bytes; ``b""`` at the end of the connection."""
        while not self.received:
            if self.ended:
                if self.error is not None:
                    raise self.error
                return b""
            self._arrival = asyncio.get_running_loop().create_future()
            try:
                await self._arrival
            finally:
                self._arrival = None
        data = bytes(self.received[:max_bytes])
        del self.received[:max_bytes]
        if self._reading_paused and len(self.received) <= READ_AHEAD // 2 and self.transport:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def send(self, data: bytes) -> None:
        """Write ``data``; wait while the transport's buffer is over its high-water mark."""
        transport = self._open_transport()
        transport.write(data)
        while self._drained is not None:  # its waiter is shared: a timeout must not cancel it
            await asyncio.shield(self._drained)
            self._open_transport()

    def _open_transport(self) -> asyncio.Transport:
        if self.ended or self.transport is None or self.transport.is_closing():
            raise self.error or ConnectionResetError("the connection is closed")
        return self.transport


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Stream(httpcore.AsyncNetworkStream):
    """An httpcore stream over a :class:`Connection`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._held: list[bytes] = []
        self._held_size = 0
        self._write_timeout: float | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        if self._held:
            # As httpcore does after a failed write: go on and read what the server said.
            with contextlib.suppress(httpcore.WriteError):
                await self._flush()
        connection = self._connection
        if connection.received:  # no wait, no timer
            return await connection.receive(max_bytes)
        try:
            async with asyncio.timeout(timeout):
                return await connection.receive(max_bytes)
        except TimeoutError as error:
            raise httpcore.ReadTimeout("timed out reading the answer") from error
        except OSError as error:
            raise httpcore.ReadError(str(error) or type(error).__name__) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Hold ``buffer`` until the answer is read (or the held bytes pass
        :data:`HOLD_AT_MOST`). httpcore writes a request's head and its body separately, and
        each send on its own costs a full trip through the network stack (on loopback, the
        receiver's side too: about as much CPU as the rest of a small request)."""
        if not buffer:
            return
        self._held.append(buffer)
        self._held_size += len(buffer)
        self._write_timeout = timeout
        if self._held_size > HOLD_AT_MOST:
            await self._flush()

    async def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        self._held_size = 0
        try:
            async with asyncio.timeout(self._write_timeout):
                await self._connection.send(data)
        except TimeoutError as error:
            raise httpcore.WriteTimeout("timed out sending the request") from error
        except OSError as error:
            raise httpcore.WriteError(str(error) or type(error).__name__) from error

    async def aclose(self) -> None:
        """Close at once, as AnyIO's stream does: no wait for a TLS ``close_notify``."""
        self._held.clear()
        transport = self._connection.transport
        if transport is not None and not transport.is_closing():
            transport.close()
            await asyncio.sleep(0)
            transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        connection = self._connection
        assert connection.transport is not None
        assert not connection.received  # nothing may have come before the handshake
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                secured = await loop.start_tls(
                    connection.transport,
                    connection,
                    ssl_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout,
                )
        except TimeoutError as error:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from error
        except OSError as error:  # ssl.SSLError (CERTIFICATE_VERIFY_FAILED...) is one
            await self.aclose()
            raise httpcore.ConnectError(str(error) or type(error).__name__) from error
        assert isinstance(secured, asyncio.Transport)
        connection.transport = secured
        return self

    def get_extra_info(self, info: str) -> Any:
        connection = self._connection
        if info == "is_readable":
            return connection.is_readable
        if connection.transport is None:
            return None
        return connection.transport.get_extra_info(_EXTRA.get(info, info))


_EXTRA = {"client_addr": "sockname", "server_addr": "peername"}
"""httpcore's names for what asyncio's transports call otherwise."""


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections as :class:`Stream` s on the running asyncio loop."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        return await _connected(
            lambda connection: loop.create_connection(
                lambda: connection,
                host,
                port,
                local_addr=local,
                happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
            ),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await _connected(
            lambda connection: loop.create_unix_connection(lambda: connection, path),
            timeout,
            socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


Connector = Callable[[Connection], Any]
"""Opens a connection for the protocol it is given (a coroutine of asyncio's)."""


async def _connected(
    connect: Connector, seconds: float | None, options: Iterable[SocketOption] | None
) -> Stream:
    connection = Connection()
    try:
        async with asyncio.timeout(seconds):
            await connect(connection)
    except TimeoutError as error:
        raise httpcore.ConnectTimeout("timed out connecting") from error
    except OSError as error:  # refused, unreachable, no such host (socket.gaierror)
        raise httpcore.ConnectError(str(error) or type(error).__name__) from error
    raw = connection.transport.get_extra_info("socket") if connection.transport else None
    if isinstance(raw, socket.socket):
        for option in options or ():
            raw.setsockopt(*option)
    return Stream(connection)
