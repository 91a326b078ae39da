"""Checking the daemon's listen address before anything starts, so a busy port is one line."""

from __future__ import annotations

import socket

from offboard.cli.errors import FailedError


def ensure_can_listen(host: str, port: int) -> None:
    """Bind and release ``host:port``; a port in use or a bad host is a FailedError (exit 1).

    uvicorn would log the bind error and end the process from inside a task, which printed
    a traceback and exited with 3 ("blocked by a guard").
    """
    if port == 0:
        return  # any free port: nothing can be busy
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise FailedError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (check daemon.listen_host)"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise FailedError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (another process, "
                "perhaps another offboard, is using it: stop it or change daemon.listen_port)"
            ) from None
