"""The licence report: which paid seats nobody should hold, and what they cost. Pure.

A seat is one product an account can use while the org pays for the account (billable,
access not taken away). Each account gets one state, the first that applies:

* ``leaver``: linked only to Keycloak identities that are disabled, deleted or gone, and
  no enabled identity holds its email (a person re-created in Keycloak keeps the seat);
  or not linked and only disabled identities have its email (day one: left before offboard
  was watching);
* ``unlinked_scim``: provisioned through a SCIM directory, and no Keycloak identity owns it;
* ``orphan``: no Keycloak identity owns it (no link, no identity with its email);
* ``inactive``: owned by a current person, but unused for ``inactive_days`` or more
  (never used counts from when it joined the org, when that is known);
* ``active``: the rest.

Every state but ``active`` is reclaimable; a configured price per seat (per product, with a
default) turns reclaimable seats into a monthly cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from offboard.core.accounts import Account
from offboard.core.identities import Identity, normalise_email
from offboard.core.links import Link


class SeatState(StrEnum):
    LEAVER = "leaver"
    UNLINKED_SCIM = "unlinked_scim"
    ORPHAN = "orphan"
    INACTIVE = "inactive"
    ACTIVE = "active"


RECLAIMABLE = (SeatState.LEAVER, SeatState.UNLINKED_SCIM, SeatState.ORPHAN, SeatState.INACTIVE)
HISTOGRAM_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7),
    ("8-30", 30),
    ("31-90", 90),
    ("91-180", 180),
    ("181-365", 365),
    (">365", None),
)
NEVER = "never"


@dataclass(frozen=True, slots=True)
class ProductUse:
    """One product an account can use, and the last time it did (None: never)."""

    key: str
    last_active: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountUsage:
    """What Atlassian knows of an account's use and billing."""

    account_id: str
    email: str | None
    billable: bool
    products: tuple[ProductUse, ...] = ()
    last_active: datetime | None = None
    added_to_org: datetime | None = None

    @property
    def latest_use(self) -> datetime | None:
        """The last time the account used anything."""
        moments = [p.last_active for p in self.products if p.last_active is not None]
        if self.last_active is not None:
            moments.append(self.last_active)
        return max(moments, default=None)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    inactive_days: int = 90
    prices: Mapping[str, float] = field(default_factory=dict)
    """Monthly price of one seat per product key; ``*`` is the default for the rest."""
    currency: str = "USD"

    def price_of(self, product: str) -> float:
        return float(self.prices.get(product, self.prices.get("*", 0.0)))

    def priced(self, product: str) -> bool:
        """Whether a price applies (its own or ``*``): an unpriced seat is not a free one."""
        return product in self.prices or "*" in self.prices


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One account of the report, with its state and how long since it was used."""

    account_id: str
    email: str | None
    state: SeatState
    products: tuple[str, ...]
    idle_days: int | None
    """Days since last use; None when never used."""
    identity_id: str | None = None


@dataclass(frozen=True, slots=True)
class LicenceReport:
    taken_at: datetime
    options: ReportOptions
    lines: tuple[AccountLine, ...]
    seats: Mapping[str, Mapping[str, int]]
    """Product key → state → seats."""
    histogram: Mapping[str, int]
    """Idle-days bucket (and ``never``) → billable accounts."""

    @property
    def reclaimable_seats(self) -> int:
        return sum(self.seats_in(state) for state in RECLAIMABLE)

    def seats_in(self, state: SeatState) -> int:
        return sum(by_state.get(state.value, 0) for by_state in self.seats.values())

    def reclaimable_cost(self) -> float:
        """Monthly cost of the reclaimable seats at the configured prices."""
        return round(
            sum(
                self.options.price_of(product) * by_state.get(state.value, 0)
                for product, by_state in self.seats.items()
                for state in RECLAIMABLE
            ),
            2,
        )

    def unpriced_products(self) -> tuple[str, ...]:
        """Products with reclaimable seats and no price: their cost is unknown, not zero."""
        return tuple(
            product
            for product, by_state in self.seats.items()
            if not self.options.priced(product)
            and any(by_state.get(state.value, 0) for state in RECLAIMABLE)
        )

    def accounts_in(self, state: SeatState) -> int:
        return sum(1 for line in self.lines if line.state is state)


def _idle_days(usage: AccountUsage, now: datetime) -> int | None:
    latest = usage.latest_use
    return None if latest is None else max(0, (now - latest).days)


def _bucket(idle_days: int | None) -> str:
    if idle_days is None:
        return NEVER
    for name, upper in HISTOGRAM_BUCKETS:
        if upper is None or idle_days <= upper:
            return name
    return HISTOGRAM_BUCKETS[-1][0]


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owns what on the Keycloak side, indexed once for the whole report."""

    links_of: Mapping[str, tuple[Link, ...]]
    """Account id → every link naming it (a re-created person can leave two)."""
    identity_of: Mapping[str, Identity]
    email_owners: frozenset[str]
    current_emails: frozenset[str]
    """Emails of the enabled identities of the read."""
    gone: frozenset[str]

    @classmethod
    def index(
        cls, identities: Iterable[Identity], links: Iterable[Link], deleted: Iterable[str] = ()
    ) -> Ownership:
        by_id: dict[str, Identity] = {identity.id: identity for identity in identities}
        emails = frozenset(
            email for identity in by_id.values() if (email := identity.normalised_email)
        )
        current = frozenset(
            email
            for identity in by_id.values()
            if identity.enabled and (email := identity.normalised_email)
        )
        links_of: dict[str, list[Link]] = {}
        for link in sorted(links, key=lambda link: (link.account_id, link.identity_id)):
            links_of.setdefault(link.account_id, []).append(link)
        return cls(
            {account: tuple(found) for account, found in links_of.items()},
            by_id,
            emails,
            current,
            frozenset(deleted),
        )

    def _current(self, link: Link) -> bool:
        identity = self.identity_of.get(link.identity_id)
        return identity is not None and identity.enabled and link.identity_id not in self.gone

    def link_of(self, account_id: str) -> Link | None:
        """The link that speaks for the account: a current person's first."""
        links = self.links_of.get(account_id, ())
        return next((link for link in links if self._current(link)), next(iter(links), None))

    def owner_state(self, account: Account | None, usage: AccountUsage) -> SeatState | None:
        """LEAVER, UNLINKED_SCIM or ORPHAN when ownership decides the state; else None.

        A linked account is a leaver's only when no linked person is current and no enabled
        person holds its email: a person deleted and created again in Keycloak (the link
        names the old id) still holds the seat, until a human re-links it."""
        links = self.links_of.get(usage.account_id, ())
        email = normalise_email(usage.email)
        if links:
            if any(self._current(link) for link in links) or email in self.current_emails:
                return None
            return SeatState.LEAVER
        if email in self.current_emails:
            return None
        if email in self.email_owners:
            return SeatState.LEAVER  # only disabled people have it: left before the watch
        if account is not None and account.scim is not None:
            return SeatState.UNLINKED_SCIM
        return SeatState.ORPHAN


def _state(
    usage: AccountUsage,
    account: Account | None,
    ownership: Ownership,
    idle: int | None,
    options: ReportOptions,
    now: datetime,
) -> SeatState:
    owned = ownership.owner_state(account, usage)
    if owned is not None:
        return owned
    limit = timedelta(days=options.inactive_days)
    if idle is None:
        joined = usage.added_to_org or (account.added_to_org if account else None)
        return SeatState.INACTIVE if joined is None or now - joined >= limit else SeatState.ACTIVE
    return SeatState.INACTIVE if idle >= options.inactive_days else SeatState.ACTIVE


def holds_seat(usage: AccountUsage, account: Account | None) -> bool:
    """Billable, and still has access (a deprovisioned account costs nothing)."""
    return usage.billable and (account is None or account.has_access)


def build_report(
    usages: Iterable[AccountUsage],
    accounts: Iterable[Account],
    ownership: Ownership,
    options: ReportOptions,
    now: datetime,
) -> LicenceReport:
    """The report over every billable account of ``usages`` (``accounts`` adds SCIM and
    access facts from the directory snapshot where it has them)."""
    by_id: dict[str, Account] = {account.id: account for account in accounts}
    lines: list[AccountLine] = []
    seats: dict[str, Counter[str]] = {}
    histogram: Counter[str] = Counter({name: 0 for name, _ in HISTOGRAM_BUCKETS} | {NEVER: 0})
    for usage in usages:
        account = by_id.get(usage.account_id)
        if not holds_seat(usage, account):
            continue
        idle = _idle_days(usage, now)
        state = _state(usage, account, ownership, idle, options, now)
        link = ownership.link_of(usage.account_id)
        products = tuple(sorted({p.key for p in usage.products}))
        lines.append(
            AccountLine(
                usage.account_id,
                usage.email,
                state,
                products,
                idle,
                link.identity_id if link else None,
            )
        )
        histogram[_bucket(idle)] += 1
        for product in products:
            seats.setdefault(product, Counter())[state.value] += 1
    return LicenceReport(
        taken_at=now,
        options=options,
        lines=tuple(lines),
        seats={product: dict(counts) for product, counts in sorted(seats.items())},
        histogram=dict(histogram),
    )
