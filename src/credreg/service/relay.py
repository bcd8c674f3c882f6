"""The relay's state machine: one step at a time, each request from pending to confirmed (or failed).

- pending: looked for on the ledger first (`lookup.on_chain`: it may have been sent before a crash, by this
  or another instance); if it is not there it is sent, and its transaction hash committed before any
  waiting (submitted). A refusal from the node is checked against the ledger again before it counts.
- submitted: followed until its receipt is `confirmations` blocks deep (confirmed). A transaction the node no
  longer knows (a restarted node, a dropped transaction), or keeps queued behind a nonce gap, is looked for
  on the ledger again and sent again only if it had no effect; the relayer's nonce is read from the chain
  again first. A reverted one is looked for too, then fails with the contract's reason.
- after a rewind or reorg (found by the event index, recorded as a `LedgerRewind`), every request confirmed
  in a block after the common ancestor is pending again and takes the same steps, with the same signed
  request. A signature whose deadline has passed meanwhile cannot be sent again: that request fails with a
  problem saying to sign it again.

Roots are write-once and status changes carry the target's nonce, so the contract itself refuses any second
effect: "exactly once on the ledger" holds even when two instances race.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, cast

from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt

from credreg.chain.client import with_retries
from credreg.chain.reverts import as_contract_revert
from credreg.errors import ContractRevert, CredregError, TransactionFailed
from credreg.registry import Registry, Relayer, SignedIssue, SignedStatusChange
from credreg.service.db import LedgerRewind, OutboxRow, keep_block, now_ms
from credreg.service.intake import json_args
from credreg.service.lookup import OnChain, Superseded, on_chain
from credreg.service.store import CONFIRMED, FAILED, ISSUE, OPEN_STATES, SUBMITTED, OutboxStore

__all__ = ["GAP_CHECK_MS", "UNREACHABLE_RETRY_MS", "Relay"]

log = logging.getLogger("credreg.service.outbox")

UNREACHABLE_RETRY_MS = 1_000
# A sent transaction still unmined after this long is checked for a nonce gap (a nonce read before a rewind).
GAP_CHECK_MS = 2_000


class Relay:
    """Moves requests along (see the module docstring); `advance` takes one request one step."""

    def __init__(
        self,
        store: OutboxStore,
        registry: Registry,
        relayer: Relayer,
        wake: threading.Event,
        *,
        confirmations: int = 0,
        max_attempts: int = 5,
        poll_ms: int = 500,
    ) -> None:
        self.store = store
        self.registry = registry
        self.relayer = relayer
        self.wake = wake
        self.confirmations = confirmations
        self.max_attempts = max_attempts
        self.poll_ms = poll_ms

    def advance(self, request_id: str) -> None:
        """Take one claimed request one step."""
        row = self.store.get(request_id)
        if row is None or row.status not in OPEN_STATES:
            return
        signed = self._signed(row)
        if row.status == SUBMITTED and row.tx_hash:
            self._follow(row, signed)
        else:
            self._submit(row, signed)

    def retry_later(self, request_id: str, delay_ms: int, problem: str) -> None:
        self.store.save(request_id, next_attempt_ms=now_ms() + delay_ms, last_problem=problem[:2000])

    # --- the steps --------------------------------------------------------------------------------------

    def _submit(self, row: OutboxRow, signed: SignedIssue | SignedStatusChange) -> None:
        found = on_chain(self.registry, row, signed)
        if isinstance(found, OnChain):
            self._settle_found(row, found)
            return
        if isinstance(found, Superseded):
            self._failed(row.id, found.error)
            return
        tx = self._tx(signed)
        try:
            tx_hash = self.relayer.sender.submit(tx)
        except ContractRevert as exc:
            again = on_chain(self.registry, row, signed)
            if isinstance(again, OnChain):
                self._settle_found(row, again)
            else:
                self._failed(row.id, self._lost_and_expired(row, exc))
            return
        except TransactionFailed as exc:
            if row.attempts + 1 >= self.max_attempts:
                self._failed(row.id, exc)
            else:
                self.store.save(
                    row.id,
                    attempts=row.attempts + 1,
                    last_problem=str(exc)[:2000],
                    next_attempt_ms=now_ms() + UNREACHABLE_RETRY_MS * 2 ** min(row.attempts, 5),
                )
            return
        # The hash is committed before anything waits for the receipt, so a restart follows this very
        # transaction instead of sending another.
        self.store.save(
            row.id,
            status=SUBMITTED,
            tx_hash=tx_hash.to_0x_hex(),
            attempts=row.attempts + 1,
            submitted_ms=now_ms(),
            next_attempt_ms=now_ms() + self.poll_ms // 4,
            last_problem=None,
        )
        self.wake.set()

    def _settle_found(self, row: OutboxRow, found: OnChain) -> None:
        if self._deep_enough(found.block_number):
            self._confirmed(row.id, found)
        else:
            self.store.save(
                row.id,
                status=SUBMITTED,
                tx_hash=found.tx_hash,
                block_number=found.block_number,
                next_attempt_ms=now_ms() + self.poll_ms,
            )

    def _deep_enough(self, block_number: int) -> bool:
        return self.confirmations <= 0 or self.registry.head() >= block_number + self.confirmations

    def _follow(self, row: OutboxRow, signed: SignedIssue | SignedStatusChange) -> None:
        assert row.tx_hash is not None
        tx_hash = HexBytes(row.tx_hash)
        receipt = self._receipt(tx_hash)
        if receipt is None:
            known = self._known(tx_hash)
            if known and not self._behind_gap(row, tx_hash):
                self.store.save(row.id, next_attempt_ms=now_ms() + self.poll_ms)  # still waiting to be mined
                return
            log.warning(
                "outbox request %s: %s %s; checking the ledger",
                row.id,
                row.tx_hash,
                "waits behind a nonce gap" if known else "is no longer known to the node",
            )
            # A node that lost transactions (restarted, rewound, pool dropped) also lost the nonces they
            # used; they are counted again from the node, or the resend would wait behind a gap forever.
            self.relayer.sender.resync_nonce()
            self._submit(row, signed)
            return
        where = OnChain(
            tx_hash=row.tx_hash,
            block_number=int(receipt["blockNumber"]),
            block_hash=HexBytes(receipt["blockHash"]).to_0x_hex(),
        )
        if receipt["status"] == 1:
            if self._deep_enough(where.block_number):
                self._confirmed(row.id, where)
            else:
                self.store.save(
                    row.id, block_number=where.block_number, next_attempt_ms=now_ms() + self.poll_ms
                )
            return
        found = on_chain(self.registry, row, signed)
        if isinstance(found, OnChain):
            self._settle_found(row, found)
            return
        self._failed(row.id, self._explain(receipt, self._tx(signed)), tx_hash=row.tx_hash)

    # --- outcomes -------------------------------------------------------------------------------------

    def _confirmed(self, request_id: str, where: OnChain) -> None:
        log.info(
            "outbox request %s confirmed in block %d (%s)", request_id, where.block_number, where.tx_hash
        )
        # Kept before the row says confirmed: if the ledger loses this block, the event index notices.
        keep_block(self.store.db, self.registry.address, where.block_number, where.block_hash)
        self.store.save(
            request_id,
            status=CONFIRMED,
            tx_hash=where.tx_hash,
            block_number=where.block_number,
            block_hash=where.block_hash,
            finished_ms=now_ms(),
            last_problem=None,
        )

    def _failed(self, request_id: str, error: CredregError, tx_hash: str | None = None) -> None:
        log.info("outbox request %s failed: %s", request_id, error)
        values: dict[str, Any] = {
            "status": FAILED,
            "finished_ms": now_ms(),
            "error_message": str(error)[:2000],
            "error_name": error.name if isinstance(error, ContractRevert) else type(error).__name__,
            "error_args": json.dumps(json_args(error.args_by_name), default=str)
            if isinstance(error, ContractRevert)
            else None,
        }
        if tx_hash is not None:
            values["tx_hash"] = tx_hash
        self.store.save(request_id, **values)

    # --- the node's side --------------------------------------------------------------------------------

    def _signed(self, row: OutboxRow) -> SignedIssue | SignedStatusChange:
        if row.kind == ISSUE:
            return SignedIssue.model_validate_json(row.payload)
        return SignedStatusChange.model_validate_json(row.payload)

    def _tx(self, signed: SignedIssue | SignedStatusChange) -> TxParams:
        if isinstance(signed, SignedIssue):
            return self.relayer.issue_tx(signed)
        return self.relayer.status_change_tx(signed)

    def _receipt(self, tx_hash: HexBytes) -> TxReceipt | None:
        def fetch() -> TxReceipt | None:
            try:
                return self.registry.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None

        return with_retries(fetch, what="eth_getTransactionReceipt", url=self.registry.url)

    def _known(self, tx_hash: HexBytes) -> bool:
        def fetch() -> bool:
            try:
                self.registry.w3.eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return False
            return True

        return with_retries(fetch, what="eth_getTransactionByHash", url=self.registry.url)

    def _behind_gap(self, row: OutboxRow, tx_hash: HexBytes) -> bool:
        """True if the node holds `tx_hash` unmined behind a nonce gap (its nonce is not below the relayer's
        pending count, which counts only transactions that can be mined): it was numbered from a nonce a
        rewind took back, and will never be mined."""
        if row.submitted_ms is not None and now_ms() - row.submitted_ms < GAP_CHECK_MS:
            return False
        w3 = self.registry.w3
        url = self.registry.url
        tx = with_retries(lambda: w3.eth.get_transaction(tx_hash), what="eth_getTransactionByHash", url=url)
        if tx.get("blockNumber") is not None:
            return False
        sender = self.relayer.sender.address
        minable = with_retries(
            lambda: int(w3.eth.get_transaction_count(sender, "pending")),  # type: ignore[arg-type]
            what="eth_getTransactionCount",
            url=url,
        )
        return int(tx["nonce"]) >= minable

    def _explain(self, receipt: TxReceipt, tx: TxParams) -> CredregError:
        """Name why a mined transaction reverted by replaying it as a call on the block before."""
        call: dict[str, Any] = {"from": self.relayer.sender.address, **cast(dict[str, Any], tx)}
        try:
            self.registry.w3.eth.call(cast(TxParams, call), int(receipt["blockNumber"]) - 1)
        except Exception as exc:  # the replay only serves to name the reason
            revert = as_contract_revert(exc, self.registry.abi)
            if revert is not None:
                return revert
        return TransactionFailed(f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} reverted")

    # --- rewinds ----------------------------------------------------------------------------------------

    def recheck_rewinds(self) -> None:
        """Act on the rewinds the event index found: re-open the requests confirmed after the common ancestor
        and re-read the relayer's nonce (once per rewind, whichever instance comes first); a rewind counts
        as re-checked once none of the requests it re-opened is open any more."""
        for rewind in self.store.unchecked_rewinds(self.registry.address):
            if rewind.outbox_reopened_ms is None:
                self._reopen_after(rewind)
            elif self.store.finish_recheck(rewind):
                log.info("every request confirmed after block %d was checked again", rewind.ancestor)

    def _reopen_after(self, rewind: LedgerRewind) -> None:
        reopened = self.store.reopen_after(rewind)
        if reopened is None:
            return
        log.warning(
            "the ledger lost the blocks after %d: %d confirmed requests are checked again",
            rewind.ancestor,
            reopened,
        )
        self.relayer.sender.resync_nonce()
        self.wake.set()

    def _lost_and_expired(self, row: OutboxRow, error: ContractRevert) -> ContractRevert:
        """An expired signature of a request a rewind took off the ledger, said as what to do about it."""
        if error.name != "CredentialRegistryExpiredSignature":
            return error
        lost = self.store.lost_by_rewind(row.id)
        if lost is None:
            return error
        return ContractRevert(
            error.name,
            error.args_by_name,
            f"the ledger lost block {lost.lost_block}, which held this request (a chain rewind), and the "
            f"signature's deadline has passed since, so the same signed request cannot be sent again: "
            f"sign it again with a new deadline and submit it ({error})",
        )
