"""Per-agency limits on what the relayer does for an agency: a rate limit on signed requests and a daily
relaying quota (transactions and gas), both over sliding windows.

Both are counted in the service's database, never in memory, so a restart forgets nothing and every instance
sharing the database counts the same requests: the rate limit from `agency_requests`, the quota from the
outbox itself (each accepted request is one transaction; its gas is the estimate made at intake until the
receipt's gasUsed is known). Instances checking at the same instant may each let one request through, so a
limit can be overshot by the number of instances, never more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, not_, select, update

from credreg.errors import CredregError
from credreg.service.db import AgencyRequestRow, Database, OutboxRow, now_ms

MINUTE_MS = 60_000
DAY_MS = 86_400_000
RECEIPTS_PER_CHECK = 64  # gasUsed read per intake at most; rows beyond keep their estimate until later
FAILED = "failed"
CONFIRMED = "confirmed"


class LimitReached(CredregError):
    """An agency used up a limit: answered 429 with `Retry-After: retry_after` seconds."""

    def __init__(self, problem: str, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class Limits:
    """0 means unlimited."""

    requests_per_minute: int = 0
    tx_per_day: int = 0
    gas_per_day: int = 0


def _seconds_until(moment_ms: int, now: int) -> int:
    return math.ceil(max(0, moment_ms - now) / 1000)


class AgencyLimits:
    """Checks an agency's rate limit and relaying quota against the database (see the module docstring)."""

    def __init__(
        self, db: Database, limits: Limits, gas_used: Callable[[str], int | None] | None = None
    ) -> None:
        self.db = db
        self.limits = limits
        self._gas_used = gas_used  # tx hash -> the receipt's gasUsed, None while unknown

    def count_request(self, agency_id: int) -> None:
        """Count one signed request of `agency_id`, or refuse it if the agency sent its minute's worth."""
        limit = self.limits.requests_per_minute
        if limit <= 0:
            return
        now = now_ms()
        since = now - MINUTE_MS
        with self.db.session() as session:
            session.execute(
                delete(AgencyRequestRow).where(
                    AgencyRequestRow.agency_id == agency_id, AgencyRequestRow.at_ms <= since
                )
            )
            recent = session.scalars(
                select(AgencyRequestRow.at_ms)
                .where(AgencyRequestRow.agency_id == agency_id, AgencyRequestRow.at_ms > since)
                .order_by(AgencyRequestRow.at_ms)
                .limit(limit)
            ).all()
            if len(recent) >= limit:
                # A refused request is not counted: the agency may send again once the oldest ages out.
                retry = _seconds_until(recent[len(recent) - limit] + MINUTE_MS, now)
                raise LimitReached(
                    "rate-limited",
                    f"agency {agency_id} sent {limit} requests in the last minute, the most this service takes; "
                    f"try again in {retry} s",
                    retry,
                )
            session.add(AgencyRequestRow(agency_id=agency_id, at_ms=now))

    def check_quota(self, agency_id: int, gas: int) -> None:
        """Refuse a new transaction of `gas` for `agency_id` if it would exceed the agency's daily quota."""
        tx_limit, gas_limit = self.limits.tx_per_day, self.limits.gas_per_day
        if tx_limit <= 0 and gas_limit <= 0:
            return
        now = now_ms()
        since = now - DAY_MS
        if gas_limit > 0:
            self._settle_gas(agency_id, since)
        # Requests that failed before anything was sent cost the relayer nothing.
        counted = and_(
            OutboxRow.agency_id == agency_id,
            OutboxRow.created_ms > since,
            not_(and_(OutboxRow.status == FAILED, OutboxRow.tx_hash.is_(None))),
        )
        gas_of = func.coalesce(OutboxRow.gas_used, OutboxRow.gas_estimate, 0)
        with self.db.session() as session:
            count, total_spent = session.execute(
                select(func.count(OutboxRow.id), func.coalesce(func.sum(gas_of), 0)).where(counted)
            ).one()
            if (tx_limit <= 0 or count < tx_limit) and (
                gas_limit <= 0 or int(total_spent) + gas <= gas_limit
            ):
                return
            # Over a limit: the day's requests, oldest first, say when enough of them leave the window.
            rows: Sequence[tuple[int, int | None, int | None]] = session.execute(
                select(OutboxRow.created_ms, OutboxRow.gas_used, OutboxRow.gas_estimate)
                .where(counted)
                .order_by(OutboxRow.created_ms)
            ).all()
        if tx_limit > 0 and len(rows) >= tx_limit:
            retry = _seconds_until(rows[len(rows) - tx_limit][0] + DAY_MS, now)
            raise LimitReached(
                "quota-exceeded",
                f"the relayer sent {len(rows)} transactions for agency {agency_id} in the last 24 h, the most "
                f"its daily quota allows ({tx_limit}); try again in {retry} s",
                retry,
            )
        if gas_limit <= 0:
            return
        spent = [used if used is not None else (estimate or 0) for _, used, estimate in rows]
        total = sum(spent)
        if total + gas <= gas_limit:
            return
        if gas > gas_limit:
            raise LimitReached(
                "quota-exceeded",
                f"this request needs about {gas} gas, more than agency {agency_id}'s daily gas quota "
                f"({gas_limit}) allows at all",
                86_400,
            )
        for (created, _, _), cost in zip(rows, spent, strict=True):
            total -= cost
            if total + gas <= gas_limit:
                retry = _seconds_until(created + DAY_MS, now)
                break
        else:  # pragma: no cover - total reaches 0 above since gas <= gas_limit
            retry = 86_400
        raise LimitReached(
            "quota-exceeded",
            f"the relayer spent {sum(spent)} gas for agency {agency_id} in the last 24 h; with this request's "
            f"{gas} it would exceed the daily gas quota ({gas_limit}); try again in {retry} s",
            retry,
        )

    def _settle_gas(self, agency_id: int, since: int) -> None:
        """Replace estimates by the receipts' gasUsed for the agency's confirmed transactions of the day."""
        if self._gas_used is None:
            return
        with self.db.session() as session:
            pending = session.execute(
                select(OutboxRow.id, OutboxRow.tx_hash)
                .where(
                    OutboxRow.agency_id == agency_id,
                    OutboxRow.created_ms > since,
                    OutboxRow.status.in_((CONFIRMED, FAILED)),
                    OutboxRow.tx_hash.is_not(None),
                    OutboxRow.gas_used.is_(None),
                )
                .limit(RECEIPTS_PER_CHECK)
            ).all()
        for row_id, tx_hash in pending:
            used = self._gas_used(str(tx_hash))
            if used is None:
                continue
            with self.db.session() as session:
                session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(gas_used=used))
