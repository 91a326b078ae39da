"""``POST /webhooks/keycloak``: verify, parse, de-duplicate, then only queue a re-check.

Order matters: the size limit is enforced while the body streams in (413 before reading it
all), the signature is checked before anything in the body is looked at (401, nothing happens),
and only then is the body parsed (400 when malformed or dated outside the window) and
de-duplicated (200, ignored). Inside the window the replay memory (kept in the store by the
daemon) refuses a repeat; outside it the time check does, so the memory spans the window only.
The memory is asked off the event loop (a slow store must not stall the other listeners), and
a store that fails makes the delivery 503 with Retry-After, like a standby's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from offboard.intake.webhooks import (
    DEFAULT_WINDOW,
    SIGNATURE_HEADER,
    MalformedWebhookError,
    ReplayFilter,
    ReplayMemory,
    WebhookDelivery,
    parse_webhook,
    verify_signature,
    within_window,
)
from offboard.ports import IdentityEvent
from offboard.service.outages import FailureStreak

log = structlog.get_logger(__name__)

T = TypeVar("T")
DEFAULT_MAX_BODY = 64 * 1024
RETRY_AFTER_SECONDS = 5
"""Told to a sender that reached a standby or a stopping replica: about when to try again."""


class _TooLargeError(Exception):
    pass


@dataclass
class WebhookReceiver:
    """What the endpoint needs: the secret, where hints go, and the limits."""

    secret: bytes
    submit: Callable[[IdentityEvent], bool]
    """Queues a re-check; False when this replica does not act right now (standby, stopping)."""
    max_body: int = DEFAULT_MAX_BODY
    replays: ReplayMemory = field(default_factory=ReplayFilter)
    """Delivery ids seen; the daemon keeps them in the store, so a restart forgets none."""
    count: Callable[[str], None] = lambda result: None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    body_timeout: float = 10.0
    """Seconds to receive the whole body (the listener bounds the headers separately)."""
    realm_id: Callable[[], str | None] = lambda: None
    """The configured realm's internal id once known: a delivery naming another realm (a
    sender installed server-wide, ``WEBHOOK_URI``) is ignored; before it is known, taken."""
    keycloak_behind: Callable[[], float | None] = lambda: None
    """Seconds Keycloak's clock runs behind ours (from its tokens): a delivery is dated on
    our clock with it, as the poller's events are (see ``adapters.keycloak.skew``)."""
    realm_name: str | None = None
    """The configured realm's name: a delivery naming its realm by name is taken too."""
    group_scope: bool = False
    """Whether a group deleted or renamed can take people out of scope (a full pass then)."""
    window: timedelta = DEFAULT_WINDOW
    """Deliveries dated further from now than this are refused (replays of old captures)."""
    store_failures: FailureStreak = field(
        default_factory=lambda: FailureStreak(
            "webhook replay memory",
            "the store did not answer: deliveries are refused 503 with Retry-After (Keycloak "
            "retries them) and the next full reconciliation covers them; check the store",
        )
    )

    async def handle(self, request: Request) -> Response:
        """The Starlette endpoint."""
        result, response = await self._handle(request)
        self.count(result)
        return response

    async def _handle(self, request: Request) -> tuple[str, Response]:
        if not self.secret:
            return "disabled", _answer(404, "webhooks are not configured")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return "too_large", _answer(413, "body too large")
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._read(request)
        except _TooLargeError:
            return "too_large", _answer(413, "body too large")
        except TimeoutError:
            return "too_slow", _answer(408, "body not received in time")
        if not verify_signature(body, request.headers.get(SIGNATURE_HEADER), self.secret):
            return "unauthorised", _answer(401, "missing or bad signature")
        try:
            delivery = parse_webhook(body, group_scope=self.group_scope)
        except MalformedWebhookError as error:
            return "malformed", _answer(400, str(error))
        delivery = on_our_clock(delivery, self.keycloak_behind())
        if not within_window(delivery.occurred_at, self.now(), self.window):
            return "stale", _answer(400, "delivery time is outside the accepted window")
        ours = self.realm_id()
        named = delivery.realm_id
        if ours is not None and named is not None and named not in (ours, self.realm_name):
            return "other_realm", _answer(200, "about another realm; ignored")
        try:
            first = await self._ask(self.replays.first_time, delivery.delivery_id)
        except Exception as error:
            self.store_failures.failed(error)
            return "store_unavailable", _retry_later("cannot record the delivery now")
        self.store_failures.succeeded()
        if not first:
            return "duplicate", _answer(200, "duplicate delivery ignored")
        if delivery.event is None:
            return "irrelevant", _answer(200, "not about a user; ignored")
        if not self.submit(delivery.event):
            # Forget it so the sender's retry (to the leader, or to us later) is not a "replay".
            await self._forget(delivery.delivery_id)
            return "not_leader", _retry_later("not acting now (a standby, or stopping)")
        log.info("webhook queued", identity_id=delivery.event.identity_id, kind=delivery.event.kind)
        return "queued", _answer(202, "re-check queued")

    async def _ask(self, call: Callable[[str], T], delivery_id: str) -> T:
        """The store's memory off the event loop; the in-memory one (no I/O) right here."""
        if isinstance(self.replays, ReplayFilter):
            return call(delivery_id)
        return await asyncio.to_thread(call, delivery_id)

    async def _forget(self, delivery_id: str) -> None:
        try:
            await self._ask(self.replays.forget, delivery_id)
        except Exception as error:  # the retry is then a "duplicate": a hint lost, no more
            self.store_failures.failed(error)

    async def _read(self, request: Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise _TooLargeError
            chunks.append(chunk)
        return b"".join(chunks)


def on_our_clock(delivery: WebhookDelivery, behind: float | None) -> WebhookDelivery:
    """The delivery dated on offboard's clock: Keycloak's time plus how far it runs behind.
    Else, with Keycloak 5 s behind, a disable a second after a person's re-read looked older
    than the read, and its re-check was skipped."""
    if not behind:
        return delivery
    shift = timedelta(seconds=behind)
    event = delivery.event
    if event is not None:
        event = replace(event, occurred_at=event.occurred_at + shift)
    return replace(delivery, event=event, occurred_at=delivery.occurred_at + shift)


def _retry_later(why: str) -> JSONResponse:
    answer = _answer(503, f"{why}; retry later")
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message}, status_code=status)
