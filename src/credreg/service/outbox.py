"""The durable outbox: agency-signed requests the service accepted, relayed to the ledger exactly once.

`Outbox` is what the API and the runtime use; it puts together four modules of one concern each:

- `intake`: accepting a request: every check (domain, signature, rate and quota, deadline, the contract's
  own checks through an `eth_call` of the very transaction that will be sent), then write and commit; only
  then does the caller answer 202. Refusals are `RequestRefused`.
- `store`: the rows in SQL: a request's key and id, its states, leases, batch leaves, rewinds re-checked.
- `relay`: the state machine taking each request from pending to confirmed, exactly once on the ledger,
  across crashes, lost transactions and rewinds; `lookup` finds what the ledger already holds of a request.
- `worker`: the loop (a thread, `run_once` in a loop) that claims due requests and moves them along.

Several instances may share one database: a row is worked on under a short lease held by `worker_id`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from credreg.registry import Registry, Relayer, SignedIssue, SignedStatusChange
from credreg.service.db import Database, OutboxRow
from credreg.service.intake import Intake
from credreg.service.limits import AgencyLimits
from credreg.service.relay import Relay
from credreg.service.store import OutboxStore
from credreg.service.worker import Worker

__all__ = ["Outbox"]


class Outbox:
    """Accepts signed requests into the database and relays them (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        registry: Registry,
        relayer: Relayer,
        *,
        worker_id: str,
        confirmations: int = 0,
        max_attempts: int = 5,
        poll_seconds: float = 0.5,
        max_leaves: int = 10_000,
        request_horizon: int = 30 * 86_400,
        valid_until_horizon_years: int = 100,
        limits: AgencyLimits | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.relayer = relayer
        self.worker_id = worker_id
        self.wake = threading.Event()
        poll_ms = int(poll_seconds * 1000)
        self.store = OutboxStore(db, worker_id)
        self.intake = Intake(
            self.store,
            registry,
            relayer,
            self.wake,
            max_leaves=max_leaves,
            request_horizon=request_horizon,
            valid_until_horizon_years=valid_until_horizon_years,
            limits=limits,
        )
        self.relay = Relay(
            self.store,
            registry,
            relayer,
            self.wake,
            confirmations=confirmations,
            max_attempts=max_attempts,
            poll_ms=poll_ms,
        )
        self.worker = Worker(self.store, self.relay, self.wake, poll_ms=poll_ms)

    # --- accepting -----------------------------------------------------------------------------------

    def accept_issue(
        self, signed: SignedIssue, leaves: Sequence[str] | None = None
    ) -> tuple[OutboxRow, bool]:
        """Check and record an issuance; returns the row and whether it is new (False: a repeat)."""
        return self.intake.accept_issue(signed, leaves)

    def accept_status_change(self, signed: SignedStatusChange) -> tuple[OutboxRow, bool]:
        """Check and record a revoke / suspend / reinstate; returns the row and whether it is new."""
        return self.intake.accept_status_change(signed)

    def check_leaves(self, root: str, leaves: Sequence[str] | None) -> list[str]:
        """A batch's leaves after the checks a relayed batch's leaves get (`Intake.check_leaves`)."""
        return self.intake.check_leaves(root, leaves)

    # --- reading -------------------------------------------------------------------------------------

    def get(self, request_id: str) -> OutboxRow | None:
        return self.store.get(request_id)

    def roots_of_leaf(self, leaf: str) -> list[tuple[int, str]]:
        """(agency, root) of every relayed batch that has `leaf` as a leaf."""
        return self.store.roots_of_leaf(leaf)

    def leaves_of(self, agency_id: int, root: str) -> list[str]:
        return self.store.leaves_of(agency_id, root)

    def open_issuance_for(self, hash_: str) -> str | None:
        """The id of an issuance not yet on the ledger whose root is `hash_` or has `hash_` as a leaf."""
        return self.store.open_issuance_for(hash_)

    def open_count(self) -> int:
        return self.store.open_count()

    # --- relaying ------------------------------------------------------------------------------------

    def claim(self, limit: int) -> list[str]:
        """Take up to `limit` due requests under this instance's lease; other instances skip them."""
        return self.store.claim(limit)

    def recheck_rewinds(self) -> None:
        """Re-open the requests a rewind took off the ledger (`Relay.recheck_rewinds`)."""
        self.relay.recheck_rewinds()

    def run_once(self, limit: int = 32) -> int:
        """Move every due request one step; return how many were worked on."""
        return self.worker.run_once(limit)

    def work(self, stop: threading.Event, on_idle: Callable[[], None] | None = None) -> None:
        """Relay until `stop` is set: every due request each round, waking early when one is accepted."""
        self.worker.work(stop, on_idle)
