"""Signing and sending transactions from a local key, safely when several are in flight.

- Nonces are handed out under a lock from a local counter seeded from the chain's pending count, so
  concurrent senders sharing one `TxSender` never collide; a nonce error, and `resync_nonce()` (called after
  a chain rewind, or when the node lost sent transactions), make it read the count from the chain again.
- Fees follow the chain: EIP-1559 when blocks carry a base fee (London), legacy `gasPrice` when they do not
  (pre-London, as GoQuorum and many IBFT networks run); a network at zero gas price, either way, pays zero.
- Gas is estimated (which also surfaces reverts before anything is sent) with a safety margin.
- A receipt counts once `confirmations` further blocks are on top of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TimeExhausted, Web3RPCError
from web3.types import TxParams, TxReceipt

from credreg.chain.client import TRANSIENT_ERRORS, rpc_url_of, with_retries
from credreg.chain.reverts import as_contract_revert
from credreg.errors import ChainUnreachable, ContractRevert, TransactionFailed

GAS_MARGIN = 1.25
_NONCE_ERRORS = ("nonce too low", "nonce is too low", "invalid nonce", "replacement transaction underpriced")


@dataclass
class Fees:
    eip1559: bool
    max_fee: int = 0
    priority_fee: int = 0
    gas_price: int = 0

    def apply(self, tx: dict[str, Any]) -> None:
        if self.eip1559:
            tx["maxFeePerGas"] = self.max_fee
            tx["maxPriorityFeePerGas"] = self.priority_fee
            tx["type"] = 2
        else:
            tx["gasPrice"] = self.gas_price


@dataclass
class TxSender:
    """Sends transactions signed by `account`. Thread-safe; share one per account."""

    w3: Web3
    account: LocalAccount
    abi: Sequence[dict[str, Any]] = ()
    confirmations: int = 0
    receipt_timeout: float = 120.0
    _nonce: int | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _chain_id: int | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def fees(self) -> Fees:
        latest = self._rpc(lambda: self.w3.eth.get_block("latest"), "eth_getBlockByNumber")
        base_fee = latest.get("baseFeePerGas")
        gas_price = self._rpc(lambda: int(self.w3.eth.gas_price), "eth_gasPrice")
        if base_fee is None:
            return Fees(eip1559=False, gas_price=gas_price)
        try:
            priority = int(self._rpc(lambda: self.w3.eth.max_priority_fee, "eth_maxPriorityFeePerGas"))
        except (Web3RPCError, ValueError):
            priority = 0
        if int(base_fee) == 0:
            # A zero-base-fee network (Besu's zeroBaseFee, anvil --base-fee 0): a tip above the node's gas price
            # would only make unfunded accounts fail with "insufficient funds".
            priority = min(priority, gas_price)
        return Fees(eip1559=True, max_fee=2 * int(base_fee) + priority, priority_fee=priority)

    def submit(self, tx: TxParams) -> HexBytes:
        """Estimate, sign and send `tx`; return its hash without waiting. Reverts raise ContractRevert."""
        draft: dict[str, Any] = {"from": self.address, "value": 0, **cast(dict[str, Any], tx)}
        if "gas" not in draft:
            draft["gas"] = int(self.estimate_gas(draft) * GAS_MARGIN)
        if self._chain_id is None:
            self._chain_id = self._rpc(lambda: int(self.w3.eth.chain_id), "eth_chainId")
        draft["chainId"] = self._chain_id
        self.fees().apply(draft)
        with self._lock:
            for attempt in range(2):
                draft["nonce"] = self._next_nonce()
                signed = self.account.sign_transaction(draft)
                try:
                    return self._send_raw(signed.raw_transaction, signed.hash)
                except Web3RPCError as exc:
                    if attempt == 0 and any(s in str(exc).lower() for s in _NONCE_ERRORS):
                        self._nonce = None  # resynchronise with the chain and retry once
                        continue
                    self._nonce = None
                    raise self._translate(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def send(self, tx: TxParams) -> TxReceipt:
        """Submit `tx` and wait until it is confirmed; a revert on chain raises ContractRevert."""
        return self.wait(self.submit(tx), tx)

    def estimate_gas(self, tx: dict[str, Any]) -> int:
        try:
            return int(
                with_retries(
                    lambda: self.w3.eth.estimate_gas(cast(TxParams, tx)),
                    what="eth_estimateGas",
                    url=rpc_url_of(self.w3),
                )
            )
        except ChainUnreachable:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    def wait(self, tx_hash: HexBytes, tx: TxParams | None = None) -> TxReceipt:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout, poll_latency=0.05
            )
        except TimeExhausted as exc:
            raise TransactionFailed(
                f"transaction {tx_hash.to_0x_hex()} was not mined within {self.receipt_timeout:.0f} s"
            ) from exc
        except TRANSIENT_ERRORS as exc:
            raise ChainUnreachable(f"lost the chain while waiting for {tx_hash.to_0x_hex()}: {exc}") from exc
        if receipt["status"] != 1:
            raise self._explain_failure(receipt, tx)
        self.wait_confirmations(int(receipt["blockNumber"]))
        return receipt

    def wait_confirmations(self, block_number: int) -> None:
        if self.confirmations <= 0:
            return
        deadline = time.monotonic() + self.receipt_timeout
        while (
            self._rpc(lambda: int(self.w3.eth.block_number), "eth_blockNumber")
            < block_number + self.confirmations
        ):
            if time.monotonic() > deadline:
                raise TransactionFailed(
                    f"block {block_number} did not reach {self.confirmations} confirmations"
                )
            time.sleep(0.2)

    def resync_nonce(self) -> None:
        """Forget the counted nonce: the next transaction reads it from the chain again."""
        with self._lock:
            self._nonce = None

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = self._rpc(
                lambda: int(self.w3.eth.get_transaction_count(self.account.address, "pending")),
                "eth_getTransactionCount",
            )
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def _send_raw(self, raw: bytes, tx_hash: bytes) -> HexBytes:
        try:
            return with_retries(
                lambda: self.w3.eth.send_raw_transaction(raw),
                what="eth_sendRawTransaction",
                url=rpc_url_of(self.w3),
            )
        except Web3RPCError as exc:
            # A resend after a lost reply: the node already has this exact transaction. After a failover the
            # other node may instead say its nonce is used, when it was used by this very transaction.
            message = str(exc).lower()
            if "already known" in message or "already imported" in message:
                return HexBytes(tx_hash)
            if any(s in message for s in _NONCE_ERRORS) and self._known(tx_hash):
                return HexBytes(tx_hash)
            raise

    def _known(self, tx_hash: bytes) -> bool:
        try:
            return self.w3.eth.get_transaction(HexBytes(tx_hash)) is not None
        except Exception:  # not found, or the node cannot say: treat as unknown
            return False

    def _explain_failure(self, receipt: TxReceipt, tx: TxParams | None) -> Exception:
        if tx is not None:
            replay: dict[str, Any] = {"from": self.address, **cast(dict[str, Any], tx)}
            try:
                self.w3.eth.call(cast(TxParams, replay), int(receipt["blockNumber"]) - 1)
            except Exception as exc:  # the replay is only to name the reason
                translated = self._translate(exc)
                if isinstance(translated, ContractRevert):
                    return translated
        return TransactionFailed(f"transaction {receipt['transactionHash'].to_0x_hex()} reverted on chain")

    def _translate(self, exc: BaseException) -> Exception:
        revert = as_contract_revert(exc, list(self.abi))
        if revert is not None:
            return revert
        if isinstance(exc, TRANSIENT_ERRORS):
            return ChainUnreachable(f"the chain at {rpc_url_of(self.w3)} did not answer: {exc}")
        return TransactionFailed(f"the chain refused the transaction: {exc}")

    def _rpc(self, action: Any, what: str) -> Any:
        return with_retries(action, what=what, url=rpc_url_of(self.w3))
