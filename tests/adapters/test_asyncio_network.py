"""httpcore's network layer on asyncio: held writes, liveness of idle connections, errors and
timeouts mapped to httpcore's, flow control; over a recording transport and real loopback
sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpcore
import pytest

from offboard.adapters.asyncio_network import (
    HOLD_AT_MOST,
    READ_AHEAD,
    AsyncioBackend,
    Connection,
    Stream,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Recording(asyncio.Transport):
    """Keeps what is written; reading can be paused; ``closing`` refuses writes."""

    def __init__(self, closing: bool = False) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = closing
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def over(transport: Recording) -> tuple[Connection, Stream]:
    connection = Connection()
    connection.connection_made(transport)
    return connection, Stream(connection)


async def test_a_request_s_head_and_body_leave_in_one_write() -> None:
    sent = Recording()
    connection, stream = over(sent)
    await stream.write(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n", 1.0)
    await stream.write(b"{}", 1.0)
    await stream.write(b"", 1.0)  # h11's end of a sized body
    assert sent.writes == []
    connection.data_received(b"answer")
    assert await stream.read(100, 1.0) == b"answer"
    assert sent.writes == [b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"]
    connection.data_received(b"more")
    assert await stream.read(100, 1.0) == b"more"
    assert len(sent.writes) == 1  # nothing held: nothing sent again


async def test_a_large_body_is_not_held() -> None:
    sent = Recording()
    _, stream = over(sent)
    await stream.write(b"PUT / HTTP/1.1\r\n\r\n", 2.0)
    await stream.write(b"x" * HOLD_AT_MOST, 2.0)
    assert [len(data) for data in sent.writes] == [HOLD_AT_MOST + 18]


async def test_a_failed_write_still_reads_the_server_s_answer() -> None:
    """httpcore's own rule: a server may refuse a request early and say why."""
    connection, stream = over(Recording(closing=True))
    await stream.write(b"POST / HTTP/1.1\r\n\r\n", 1.0)
    connection.data_received(b"HTTP/1.1 413 Payload Too Large\r\n\r\n")
    assert (await stream.read(100, 1.0)).startswith(b"HTTP/1.1 413")


async def test_a_write_the_server_never_takes_times_out() -> None:
    connection, stream = over(Recording())
    connection.pause_writing()  # the socket's buffer is full and stays full
    with pytest.raises(httpcore.WriteTimeout):  # a large body leaves at once, then waits
        await stream.write(b"x" * (HOLD_AT_MOST + 1), 0.05)
    connection.resume_writing()
    await stream.write(b"y" * (HOLD_AT_MOST + 1), 0.05)  # drained: goes on


async def test_a_read_past_its_timeout_is_a_read_timeout() -> None:
    _, stream = over(Recording())
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read(100, 0.05)


async def test_a_lost_connection_is_a_read_error_after_what_arrived() -> None:
    connection, stream = over(Recording())
    connection.data_received(b"part")
    connection.connection_lost(ConnectionResetError("reset by peer"))
    assert await stream.read(100, 1.0) == b"part"
    with pytest.raises(httpcore.ReadError, match="reset by peer"):
        await stream.read(100, 1.0)


async def test_the_end_of_a_connection_reads_empty() -> None:
    connection, stream = over(Recording())
    connection.eof_received()
    assert await stream.read(100, 1.0) == b""


async def test_an_idle_connection_is_readable_once_the_server_spoke_or_closed() -> None:
    """The pool drops an idle connection that is readable: a stray answer (a ``408`` before
    the server closes) must never be read as the answer to the next request."""
    connection, stream = over(Recording())
    assert stream.get_extra_info("is_readable") is False
    connection.data_received(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert stream.get_extra_info("is_readable") is True
    fresh, idle = over(Recording())
    fresh.eof_received()
    assert idle.get_extra_info("is_readable") is True


async def test_reading_pauses_past_the_read_ahead_and_resumes_as_it_is_read() -> None:
    transport = Recording()
    connection, stream = over(transport)
    connection.data_received(b"x" * (READ_AHEAD + 1))
    assert not transport.reading
    taken = 0
    while transport.reading is False:
        taken += len(await stream.read(64 * 1024, 1.0))
    assert taken >= READ_AHEAD // 2


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    listener = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with listener:
        yield listener.sockets[0].getsockname()[1]


async def test_a_socket_carries_a_request_and_its_answer_and_names_its_ends() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(5))
        await writer.drain()
        writer.close()

    async with serving(echo) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"hello", 5)
        assert await stream.read(100, 5) == b"hello"
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert stream.get_extra_info("ssl_object") is None
        assert await stream.read(100, 5) == b""  # the server closed
        assert stream.get_extra_info("is_readable") is True
        await stream.aclose()


async def test_a_refused_connection_is_a_connect_error() -> None:
    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with serving(nothing) as port:
        pass  # closed: nobody listens on the port any more
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
