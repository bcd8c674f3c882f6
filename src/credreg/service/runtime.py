"""The running service: one registry connection, the database, the outbox, the event index and the ledger
cache, with the background threads that relay requests, follow the chain and follow the index."""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from credreg.chain.client import connect
from credreg.chain.devchain import DEV_CHAIN_ID
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.keystore import load_keystore
from credreg.chain.manifest import Manifest
from credreg.config import Settings
from credreg.errors import ChainError, ConfigError, WrongChain
from credreg.registry import LedgerReads, Registry, Relayer
from credreg.service.db import Database
from credreg.service.index import EventIndex
from credreg.service.ledgercache import LedgerCache
from credreg.service.limits import AgencyLimits, Limits
from credreg.service.outbox import Outbox
from credreg.service.statuslists import StatusListPublisher, operator_key
from credreg.service.uploads import BatchUploads, UploadLimits

log = logging.getLogger(__name__)

STOP_TIMEOUT = 10.0
INDEX_RANGES_PER_ROUND = 20
# The ledger cache steps aside when its last refresh is older than this many index polls (at least 2 s).
STALE_AFTER_POLLS = 5
MIN_STALE_AFTER = 2.0


def relayer_account(settings: Settings, manifest: Manifest) -> LocalAccount:
    """The account that pays for relaying: a keystore, or on the dev chain only a well-known test account."""
    if settings.relayer_keystore is not None:
        password = os.environ.get(settings.relayer_password_env)
        if not password:
            raise ConfigError(
                f"the relayer keystore {settings.relayer_keystore} needs its password in "
                f"${settings.relayer_password_env}"
            )
        return load_keystore(settings.relayer_keystore, password)
    if manifest.chain_id == DEV_CHAIN_ID:
        account: LocalAccount = Account.from_key(ANVIL_TEST_KEYS[settings.relayer_dev_account])
        return account
    raise ConfigError(
        f"chain {manifest.chain_id} is not the dev chain: give the relaying account's keystore in "
        f"CREDREG_RELAYER_KEYSTORE (password in ${settings.relayer_password_env})"
    )


@dataclass(frozen=True)
class Readiness:
    ready: bool
    chain_ok: bool
    contract_ok: bool
    index_ok: bool
    head_block: int | None
    indexed_to: int | None
    detail: str
    diverged: bool = False


class Service:
    """Everything `credreg serve` runs besides HTTP. `start()` creates the tables and the threads."""

    def __init__(
        self,
        settings: Settings,
        *,
        manifest: Manifest | None = None,
        relayer: LocalAccount | None = None,
    ) -> None:
        self.settings = settings
        manifest = manifest or Manifest.load(settings.manifest_path)
        # A bounded timeout per call: an HTTP client waiting on us should hear "503", not hang.
        w3 = connect(settings.effective_rpc_url, timeout=settings.rpc_timeout)
        self.registry = Registry(w3, manifest)
        self.db = Database(settings.effective_database_url)
        self.relayer = Relayer(
            self.registry, relayer or relayer_account(settings, manifest), settings.confirmations
        )
        self.outbox = Outbox(
            self.db,
            self.registry,
            self.relayer,
            worker_id=settings.worker_id,
            confirmations=settings.confirmations,
            max_attempts=settings.outbox_max_attempts,
            poll_seconds=settings.outbox_poll_seconds,
            max_leaves=settings.max_leaves,
            request_horizon=settings.request_horizon_days * 86_400,
            valid_until_horizon_years=settings.valid_until_horizon_years,
            limits=AgencyLimits(
                self.db,
                Limits(
                    requests_per_minute=settings.agency_requests_per_minute,
                    tx_per_day=settings.agency_tx_per_day,
                    gas_per_day=settings.agency_gas_per_day,
                ),
                gas_used=self._gas_used,
            ),
        )
        # A part must fit in the body limit: 69 bytes a leaf ("0x…", quotes, comma), 1 KiB for the rest.
        part = max(1, min(settings.upload_part_leaves, (settings.max_body_bytes - 1024) // 69))
        self.uploads = BatchUploads(
            self.outbox,
            UploadLimits(
                max_leaves=settings.max_upload_leaves,
                part_leaves=part,
                ttl_seconds=int(settings.upload_ttl_hours * 3600),
                open_per_agency=settings.max_open_uploads,
            ),
        )
        self.index = EventIndex(
            self.db, self.registry, confirmations=settings.confirmations, chunk=settings.log_window_blocks
        )
        self.ledger = (
            LedgerCache(
                self.registry,
                self.index,
                confirmations=settings.confirmations,
                max_lag=settings.ready_max_lag,
                stale_after=max(MIN_STALE_AFTER, STALE_AFTER_POLLS * settings.index_poll_seconds),
            )
            if settings.ledger_cache
            else None
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.audit_lock = threading.Lock()
        self._deployment_checked = False

    @property
    def reads(self) -> LedgerReads:
        """What verification reads the ledger through: the ledger cache, or the registry itself."""
        return self.ledger if self.ledger is not None else self.registry

    @property
    def deployment_checked(self) -> bool:
        """`ensure_deployment` has found the ledger right (it does not look again)."""
        return self._deployment_checked

    def ensure_deployment(self) -> None:
        """Make sure, once, that the ledger holds the manifest's registry in the contract version this code
        reads (the manifest's word is not enough: it may be stale or wrong). Raises `WrongChain` (and
        `WrongContractVersion`) or `ChainUnreachable`; every route that reads the ledger calls it first."""
        if not self._deployment_checked:
            self.registry.check_deployment()
            self._deployment_checked = True

    @functools.cached_property
    def status_lists(self) -> StatusListPublisher:
        """The status list publisher; its key is loaded (or the dev key made) on first use only."""
        return StatusListPublisher(
            self.db, self.index, operator_key(self.settings, self.registry.domain.chain_id)
        )

    def _gas_used(self, tx_hash: str) -> int | None:
        """The gas a relayed transaction used, from its receipt; None while the node has none."""
        try:
            receipt = self.registry.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None
        return int(receipt["gasUsed"])

    def start(self) -> None:
        try:
            self.ensure_deployment()
        except ChainError as exc:
            # Every route that reads the ledger checks again and answers 503 meanwhile; /readyz says why.
            log.warning("the ledger is not the manifest's, or cannot be checked yet: %s", exc)
        self.db.create_schema()
        # Uploads left alone past their time to live go now, not when the next upload starts.
        self.uploads.purge_expired()
        self._stop.clear()
        if self.settings.index_follower:
            self._spawn("credreg-index", self._follow_chain)
        if self.settings.outbox_worker:
            self._spawn("credreg-outbox", self._relay)
        if self.ledger is not None:
            self._spawn("credreg-ledger-cache", self._follow_index)

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.outbox.wake.set()
        for thread in self._threads:
            thread.join(STOP_TIMEOUT)
        self._threads.clear()
        self.db.dispose()

    def _relay(self) -> None:
        while not self._stop.is_set():
            try:
                self.ensure_deployment()
                break
            except ChainError as exc:
                log.warning("outbox: %s", exc)
                self._stop.wait(self.settings.outbox_poll_seconds)
        self.outbox.work(self._stop)

    def _follow_chain(self) -> None:
        while not self._stop.is_set():
            behind = False
            try:
                self.ensure_deployment()
                indexed = self.index.catch_up(max_ranges=INDEX_RANGES_PER_ROUND)
                behind = indexed < self.index.safe_head()
                if self.ledger is not None:
                    self.ledger.refresh()  # at once: the cache's own thread would see it a poll later
            except ChainError as exc:
                log.warning("event index: %s", exc)
            except Exception:
                log.exception("event index round failed")
            if not behind:
                self._stop.wait(self.settings.index_poll_seconds)

    def _follow_index(self) -> None:
        """Keep the ledger cache at the index's last block (whichever process indexes)."""
        assert self.ledger is not None
        while not self._stop.is_set():
            try:
                self.ledger.refresh()
            except Exception:
                log.exception("ledger cache refresh failed")  # its answers age out: reads go to the chain
            self._stop.wait(self.settings.index_poll_seconds)

    def readiness(self) -> Readiness:
        """Chain reachable and the right one, the contract there, the service not diverged from the ledger
        (see `EventIndex.check_chain`), the index within `ready_max_lag` blocks."""
        try:
            self.registry.check_deployment()
            head = self.registry.head()
        except WrongChain as exc:
            return Readiness(False, True, False, False, None, None, str(exc))
        except ChainError as exc:
            return Readiness(False, False, False, False, None, None, str(exc))
        indexed = self.index.indexed_to()
        rewind = self.index.diverged()
        if rewind is not None or head < indexed:
            if rewind is None:  # seen here before the index thread's next round records it
                detail = f"the chain's head {head} is below block {indexed}, which the service had read"
            else:
                waiting = [
                    what
                    for what, done in (
                        ("the event index to read the chain again", rewind.index_resynced_ms),
                        (
                            "the outbox to re-check the requests confirmed after it",
                            rewind.outbox_rechecked_ms,
                        ),
                    )
                    if done is None
                ]
                detail = (
                    f"the ledger lost the blocks after {rewind.ancestor} that the service had read (up to "
                    f"{rewind.lost_to}); waiting for {' and '.join(waiting)}"
                )
            return Readiness(False, True, True, False, head, indexed, detail, diverged=True)
        lag = max(0, head - self.settings.confirmations - indexed)
        index_ok = lag <= self.settings.ready_max_lag
        detail = "ready" if index_ok else f"the event index trails the chain by {lag} blocks"
        return Readiness(index_ok, True, True, index_ok, head, indexed, detail)
