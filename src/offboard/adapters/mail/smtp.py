"""The :class:`offboard.ports.Notifier` over SMTP, with the standard library's smtplib.

STARTTLS (the default) and implicit TLS verify the server's certificate against the system
store (plus a private CA bundle when given). A refused or unreachable server is a
``TemporaryError`` (the executor retries it); refused recipients or login are permanent.
The password is never part of an error message.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from pydantic import SecretStr

from offboard.ports import AuthenticationError, Message, PermanentError, TemporaryError


def build_email(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(message.to)
    if message.cc:
        mail["Cc"] = ", ".join(message.cc)
    mail["Subject"] = message.subject
    mail.set_content(message.body)
    return mail


class SmtpNotifier:
    """One SMTP connection per message: warnings are few, and a daily batch at most."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        security: str = "starttls",
        username: str | None = None,
        password: SecretStr | None = None,
        sender: str = "offboard@localhost",
        timeout: float = 30.0,
        ca_bundle: Path | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self.sender, self.timeout = sender, timeout
        self._context = ssl.create_default_context()
        if ca_bundle is not None:
            self._context.load_verify_locations(cafile=str(ca_bundle))

    async def send(self, message: Message) -> str:
        return await asyncio.to_thread(self._send, message)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context
            )
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=self._context)
        return client

    def _send(self, message: Message) -> str:
        where = f"SMTP {self.host}:{self.port}"
        try:
            with self._connect() as client:
                if self.username:
                    secret = self._password.get_secret_value() if self._password else ""
                    client.login(self.username, secret)
                refused = client.send_message(build_email(message, self.sender))
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthenticationError(f"{where}: login refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"{where}: recipients refused: {sorted(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            error = TemporaryError if 400 <= exc.smtp_code < 500 else PermanentError
            raise error(f"{where}: {exc.smtp_code}", status=exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryError(f"{where}: {type(exc).__name__}") from None
        accepted = [r for r in (*message.to, *message.cc) if r not in refused]
        return f"accepted by {where} for {', '.join(accepted)}"
