"""Post a notification to a Slack-compatible incoming webhook.

The webhook URL is a secret (whoever has it can post to the channel): it is kept as a
``SecretStr`` and never put in an error message or a log line, only the channel's name.
Slack answers 200 ``ok``; 4xx (a revoked or wrong URL) is permanent, 429/5xx temporary.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from offboard.adapters.http import error_for
from offboard.core.notifications import Condition, Text
from offboard.ports import TemporaryError

MAX_TEXT = 3500
"""Slack cuts a message's text beyond about 4,000 characters; keep the end of a long digest
off rather than lose the "what to do" in the middle of a cut."""


def slack_body(condition: Condition, text: Text) -> dict[str, object]:
    """The JSON Slack expects: ``text`` (mrkdwn) with the subject in bold on the first line.

    ``&``, ``<`` and ``>`` are escaped as Slack asks: the text carries names, emails and
    vendors' messages, and ``<!channel>`` or ``<https://…|words>`` in one of them must show
    as typed, not ping everyone or hide a link behind other words."""
    body = text.body if len(text.body) <= MAX_TEXT else text.body[: MAX_TEXT - 1] + "…"
    return {"text": f"*{mrkdwn_escaped(text.subject)}*\n{mrkdwn_escaped(body)}"}


def mrkdwn_escaped(text: str) -> str:
    """Slack's three control characters as entities (the only escaping it wants)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackWebhook:
    """One incoming-webhook URL; ``client`` verifies TLS (plain http only to loopback)."""

    def __init__(self, url: SecretStr, client: httpx.AsyncClient, name: str = "slack") -> None:
        self._url = url
        self._client = client
        self.name = name

    async def send(self, condition: Condition, text: Text) -> None:
        """Post once; raises ``TemporaryError`` / ``PermanentError`` without the URL."""
        what = f"{self.name} webhook"
        try:
            response = await self._client.post(
                self._url.get_secret_value(), json=slack_body(condition, text)
            )
        except httpx.TransportError as exc:
            raise TemporaryError(f"{what}: {type(exc).__name__}") from None
        if not response.is_success:
            raise error_for(response, what)

    def __repr__(self) -> str:
        return f"SlackWebhook({self.name}, ***)"
