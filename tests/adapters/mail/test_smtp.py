"""The SMTP notifier against a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS with a
verified certificate, login, refusals; and the file outbox."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from pydantic import SecretStr

from offboard.adapters.mail import OutboxNotifier, SmtpNotifier
from offboard.ports import AuthenticationError, Message, PermanentError, TemporaryError

USER, PASSWORD = "offboard", "s3cret-smtp-password"
MESSAGE = Message(("ina@acme.example",), "Inactive", "Hello", cc=("boss@acme.example",))


class Inbox:
    """The server side: keeps what it accepted; refuses one address."""

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


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
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


def notifier(port: int, cert: Path, password: str = PASSWORD) -> SmtpNotifier:
    return SmtpNotifier(
        "127.0.0.1", port, username=USER, password=SecretStr(password),
        sender="offboard@acme.example", ca_bundle=cert, timeout=5,
    )  # fmt: skip


async def test_a_warning_goes_out_over_starttls_with_login(
    server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = server
    said = await notifier(port, certificate[0]).send(MESSAGE)
    assert "ina@acme.example" in said
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["ina@acme.example", "boss@acme.example"]
    mail = message_from_bytes(envelope.original_content or b"")
    assert (mail["Subject"], mail["From"], mail["Cc"]) == (
        "Inactive",
        "offboard@acme.example",
        "boss@acme.example",
    )


async def test_a_wrong_password_is_an_authentication_error_without_the_password(
    server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    with pytest.raises(AuthenticationError) as raised:
        await notifier(server[1], certificate[0], "wrong-password").send(MESSAGE)
    assert "wrong-password" not in str(raised.value)
    assert server[0].envelopes == []


async def test_an_untrusted_certificate_is_refused(server: tuple[Inbox, int]) -> None:
    with pytest.raises(TemporaryError, match="SSLCertVerificationError"):
        await SmtpNotifier("127.0.0.1", server[1], timeout=5).send(MESSAGE)


async def test_refused_recipients_are_permanent(
    server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    with pytest.raises(PermanentError, match=r"nobody@acme\.example"):
        await notifier(server[1], certificate[0]).send(Message(("nobody@acme.example",), "s", "b"))


async def test_an_unreachable_server_is_temporary() -> None:
    with pytest.raises(TemporaryError):
        await SmtpNotifier("127.0.0.1", 9, timeout=2).send(MESSAGE)


async def test_the_outbox_writes_one_file_per_message(tmp_path: Path) -> None:
    outbox = OutboxNotifier(tmp_path / "out", sender="offboard@acme.example")
    await outbox.send(MESSAGE)
    (path,) = outbox.messages()
    assert message_from_bytes(path.read_bytes())["To"] == "ina@acme.example"
