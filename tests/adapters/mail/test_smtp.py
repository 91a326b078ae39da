"""The SMTP notifier against a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS with a
verified certificate, login, refusals; and the file outbox."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from pydantic import SecretStr

from offboard.adapters.mail import OutboxNotifier, SmtpNotifier
from offboard.ports import AuthenticationError, Message, PermanentError, TemporaryError
from tests.notify_servers import SMTP_PASSWORD, SMTP_USER, Inbox, make_certificate, smtp_server

USER, PASSWORD = SMTP_USER, SMTP_PASSWORD
MESSAGE = Message(("ina@acme.example",), "Inactive", "Hello", cc=("boss@acme.example",))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    with smtp_server(certificate) as running:
        yield running


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
