"""Email as a notification channel: the existing :class:`~offboard.ports.Notifier` (SMTP)
given the rendered subject and body, to the configured recipients."""

from __future__ import annotations

from collections.abc import Sequence

from offboard.core.notifications import Condition, Text
from offboard.ports import Message, Notifier


class MailChannel:
    """Sends each notification as one mail to ``to``."""

    def __init__(self, notifier: Notifier, to: Sequence[str], name: str = "email") -> None:
        self._notifier = notifier
        self._to = tuple(to)
        self.name = name

    async def send(self, condition: Condition, text: Text) -> None:
        await self._notifier.send(Message(self._to, text.subject, text.body))
