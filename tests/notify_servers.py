"""Real receivers on 127.0.0.1 for the notification tests: an SMTP server (aiosmtpd) that
insists on STARTTLS and AUTH, and an HTTP receiver that keeps every request it gets."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.common.server import serve_in_thread

SMTP_USER, SMTP_PASSWORD = "offboard-notify", "smtp-pass-7f3c9e1d-secret"


def make_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``host``, an IP address or a DNS name (the client trusts
    it as its CA bundle). Files named after the host: several can share a folder."""
    named = host != "127.0.0.1"
    cert = folder / (f"{host}.pem" if named else "cert.pem")
    key = folder / (f"{host}-key.pem" if named else "key.pem")
    kind = "IP" if host.replace(".", "").isdigit() or ":" in host else "DNS"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName={kind}:{host}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Inbox:
    """What the SMTP server accepted; it refuses any ``nobody@`` address, as a real server
    refuses an unknown mailbox."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 accepted"

    @property
    def mails(self) -> list[EmailMessage]:
        return [message_from_bytes(e.original_content or b"") for e in self.envelopes]


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and AUTH; yields its inbox and port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: the controller cannot take port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=_authenticate, auth_required=True,
    )  # fmt: skip
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Keeps every POST; answers ``status`` (a list is used up front to back)."""

    statuses: list[int] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        async def take(request: Request) -> Response:
            body = await request.body()
            self.got.append(Received(request.url.path, dict(request.headers), body))
            status = self.statuses.pop(0) if self.statuses else 200
            return JSONResponse({"ok": status == 200}, status_code=status)

        return Starlette(routes=[Route("/{path:path}", take, methods=["POST"])])

    def on(self, path: str) -> list[Received]:
        return [r for r in self.got if r.path == path]


@contextlib.contextmanager
def http_receiver() -> Iterator[tuple[HttpReceiver, str]]:
    receiver = HttpReceiver()
    with serve_in_thread(receiver.app()) as url:
        yield receiver, url
