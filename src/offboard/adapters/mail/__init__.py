"""Notifications by mail: SMTP (STARTTLS, implicit TLS or a local relay) and a file outbox."""

from offboard.adapters.mail.outbox import OutboxNotifier
from offboard.adapters.mail.smtp import SmtpNotifier

__all__ = ["OutboxNotifier", "SmtpNotifier"]
