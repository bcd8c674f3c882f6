"""The outbox's worker loop: claim the due requests, take each one step, sleep until there is more to do.

Several instances may share one database: a request is worked on under a short lease held by this
instance's `worker_id` (`OutboxStore.claim`), so each request moves in one instance at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from credreg.errors import ChainUnreachable
from credreg.service.relay import UNREACHABLE_RETRY_MS, Relay
from credreg.service.store import OutboxStore

__all__ = ["Worker"]

log = logging.getLogger("credreg.service.outbox")


class Worker:
    """Runs the relay over the store's due requests, one round at a time (`run_once`) or until stopped."""

    def __init__(self, store: OutboxStore, relay: Relay, wake: threading.Event, *, poll_ms: int) -> None:
        self.store = store
        self.relay = relay
        self.wake = wake
        self.poll_ms = poll_ms

    def run_once(self, limit: int = 32) -> int:
        """Move every due request one step; return how many were worked on."""
        self.relay.recheck_rewinds()
        claimed = self.store.claim(limit)
        for request_id in claimed:
            try:
                self.relay.advance(request_id)
            except ChainUnreachable as exc:
                self.relay.retry_later(request_id, UNREACHABLE_RETRY_MS, f"chain unreachable: {exc}")
            except Exception as exc:  # one bad row must not stop the others
                log.exception("outbox request %s could not be advanced", request_id)
                self.relay.retry_later(request_id, UNREACHABLE_RETRY_MS, f"{type(exc).__name__}: {exc}")
        return len(claimed)

    def work(self, stop: threading.Event, on_idle: Callable[[], None] | None = None) -> None:
        """Relay until `stop` is set: every due request each round, waking early when one is accepted."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database or chain hiccuped; the next round tries again
                log.exception("outbox round failed")
                busy = 0
            if busy == 0 and on_idle is not None:
                on_idle()
            self.wake.wait(self.poll_ms / 1000 if busy == 0 else 0.05)
            self.wake.clear()
