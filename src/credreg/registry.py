"""What governors, agencies and relayers do with the credential registry, from Python.

    registry = Registry.connect(rpc_url, Manifest.load(path))
    governor = Governor(registry, governor_account)
    scope_id = governor.define_scope("4-04-05-01", 3, "Blockchain engineering technician, level 3")
    agency_id = governor.register_agency("Beijing Digital Skills Assessment Centre", "BJ-0001", admin)
    ...
    signed = sign_issue(signer_account, registry.domain, IssueRequest(root=..., scope_id=scope_id))
    Relayer(registry, any_account).issue(signed)

The CLI and the HTTP service are thin shells over these calls.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from credreg.chain.artifacts import load_artifact
from credreg.chain.client import connect, rpc_url_of, with_retries
from credreg.chain.eip712 import (
    ADDRESS,
    CompactSignature,
    Domain,
    IssueRequest,
    StatusAction,
    StatusChangeRequest,
    recover,
    sign,
)
from credreg.chain.events import EventDecoder
from credreg.chain.manifest import Manifest
from credreg.chain.reverts import decode_revert_data
from credreg.chain.states import AgencyState, TargetState, Verdict
from credreg.chain.transactions import TxSender
from credreg.documents.model import scope_id as scope_id_of
from credreg.errors import ChainError, ConfigError, ContractRevert, DocumentError, WrongChain

ZERO_HASH = "0x" + "00" * 32
REGISTRY_CONTRACT = "CredentialRegistry"
# Calls per JSON-RPC batch: Besu serves up to 1,024 by default (--rpc-http-max-batch-size).
STATUS_BATCH = 500

# credentialStatus returns one static struct: nine ABI words, decoded by slicing (see `_status_from_words`).
_STATUS_OUTPUT = "(uint8,bytes32,uint16,uint40,(uint32,bytes32,address,uint40,uint40))"
_STATUS_HEX_LENGTH = 2 + 9 * 64
_PROOF_OFFSET = f"{3 * 32:064x}"  # the proof array's data starts after the three head words
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}\Z")
# Blocks whose facts (agencies, scopes, signer keys, accreditations) are kept: the head and a few before it,
# for requests still being answered at a block that has just been superseded.
FACT_BLOCKS = 4


@dataclass(frozen=True)
class ScopeInfo:
    scope_id: str
    occupation_code: str
    level: int
    index: int
    title: str


@dataclass(frozen=True)
class AgencyInfo:
    agency_id: int
    name: str
    registration_code: str
    admin: str
    state: AgencyState
    reason: int
    cutoff: int


@dataclass(frozen=True)
class SignerInfo:
    address: str
    agency_id: int
    index: int
    valid_from: int
    valid_until: int
    compromised_since: int


@dataclass(frozen=True)
class AccreditationInfo:
    agency_id: int
    scope_id: str
    scope_index: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True)
class CredentialRecord:
    root: str
    agency_id: int
    scope_id: str
    signer: str
    issued_at: int
    valid_until: int

    @property
    def issued(self) -> bool:
        return self.issued_at != 0


@dataclass(frozen=True)
class TargetStatus:
    target: str
    state: TargetState
    reason: int
    nonce: int
    since: int
    set_by_agency: int


@dataclass(frozen=True)
class BlockHead:
    """A block as a verifier pins its reads to it."""

    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class CredentialState:
    """The contract's answer for one credential (root, leaf, proof)."""

    verdict: Verdict
    target: str
    reason: int
    since: int
    record: CredentialRecord


class SignedIssue(BaseModel):
    """An issuance request with its agency signature, ready for anyone to relay."""

    model_config = ConfigDict(frozen=True)

    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)
    request: IssueRequest
    signature: CompactSignature

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, registry=self.registry)

    def signer(self) -> str:
        return recover(self.domain, self.request, self.signature)


class SignedStatusChange(BaseModel):
    """A revoke / suspend / reinstate request with its agency signature and the target's merkle proof."""

    model_config = ConfigDict(frozen=True)

    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=ADDRESS)
    request: StatusChangeRequest
    proof: list[str] = Field(default_factory=list, max_length=64)
    signature: CompactSignature

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, registry=self.registry)

    def signer(self) -> str:
        return recover(self.domain, self.request, self.signature)


def _b32(value: str) -> bytes:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise DocumentError(f"expected a 0x-prefixed 32-byte hex hash, got {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise DocumentError(f"not a hex hash: {value!r}") from exc


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _word(value: str) -> str:
    """A 0x-prefixed 32-byte hash as one ABI word: 64 lowercase hex digits."""
    if not isinstance(value, str) or _HEX32.match(value) is None:
        raise DocumentError(f"expected a 0x-prefixed 32-byte hex hash, got {value!r}")
    return value[2:].lower()


@functools.lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    # A batch names the same few signer keys thousands of times; EIP-55 costs a keccak each.
    return str(to_checksum_address(address))


def _abi_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def _normalise(param: dict[str, Any], value: Any) -> Any:
    """Decoded ABI values as web3.py gives them: addresses in EIP-55 form, structs as tuples."""
    kind = str(param["type"])
    if kind.endswith("]"):
        element = {**param, "type": kind[: kind.rindex("[")]}
        return [_normalise(element, v) for v in value]
    if kind == "address":
        return _checksum(value)
    if kind == "tuple":
        return tuple(_normalise(c, v) for c, v in zip(param["components"], value, strict=True))
    return value


def _block_param(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


class Registry:
    """A connection to one deployed CredentialRegistry: reads, and the pieces writers need."""

    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.manifest = manifest
        self.abi: list[dict[str, Any]] = load_artifact(REGISTRY_CONTRACT).abi
        self.address = to_checksum_address(manifest.registry_address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self.abi)
        self.domain = Domain(chain_id=manifest.chain_id, registry=self.address)
        self.events = EventDecoder(self.abi)
        functions = [entry for entry in self.abi if entry.get("type") == "function"]
        self._outputs: dict[str, list[dict[str, Any]]] = {f["name"]: list(f["outputs"]) for f in functions}
        self._inputs: dict[str, list[str]] = {
            f["name"]: [_abi_type(i) for i in f["inputs"]] for f in functions
        }
        self._selectors: dict[str, str] = {
            name: "0x" + keccak(text=f"{name}({','.join(types)})")[:4].hex()
            for name, types in self._inputs.items()
        }
        if [_abi_type(o) for o in self._outputs.get("credentialStatus", [])] != [_STATUS_OUTPUT]:
            raise ConfigError(
                f"the registry ABI's credentialStatus no longer returns {_STATUS_OUTPUT}; "
                f"credreg.registry decodes it word by word and must be updated with the contract"
            )
        self._status_selector = self._selectors["credentialStatus"]
        # See `statuses_at_head` and `facts_at`.
        self._head_hint: int | None = None
        self._facts: OrderedDict[str, _BlockFacts] = OrderedDict()
        self._facts_lock = threading.Lock()

    @classmethod
    def connect(cls, rpc_url: str, manifest: Manifest, *, check: bool = True) -> Registry:
        """Connect and make sure the endpoint serves the manifest's chain and contract."""
        registry = cls(connect(rpc_url), manifest)
        if check:
            registry.check_deployment()
        return registry

    @property
    def url(self) -> str:
        return rpc_url_of(self.w3)

    def check_deployment(self) -> None:
        actual = with_retries(lambda: int(self.w3.eth.chain_id), what="eth_chainId", url=self.url)
        if actual != self.manifest.chain_id:
            raise WrongChain(
                f"{self.url} serves chain {actual}, but the deployment manifest is for chain {self.manifest.chain_id}"
            )
        code = with_retries(lambda: self.w3.eth.get_code(self.address), what="eth_getCode", url=self.url)
        if not code:
            raise WrongChain(
                f"there is no contract at {self.address} on chain {actual}; is the manifest current?"
            )

    # --- reads -----------------------------------------------------------------------------------------

    # Reads go to the node as plain JSON-RPC (eth_call, batches of them) and are decoded here: web3.py's
    # contract-call machinery costs more than the node's answer (it also asks for the chain id on every
    # call), and verifying thousands of documents a second leaves no room for it.

    def _request(self, method: str, params: list[Any], what: str) -> dict[str, Any]:
        reply: Any = with_retries(
            lambda: self.w3.provider.make_request(method, params),  # type: ignore[arg-type]
            what=what,
            url=self.url,
        )
        return dict(reply)

    def _batch(self, requests: Sequence[tuple[str, list[Any]]], what: str) -> list[dict[str, Any]]:
        """`requests` in one JSON-RPC batch round trip; replies in request order."""
        if not requests:
            return []
        provider: Any = self.w3.provider  # HTTP in practice; batching is plain JSON-RPC 2.0
        replies: Any = with_retries(
            lambda: provider.make_batch_request(list(requests)), what=what, url=self.url
        )
        if not isinstance(replies, list) or len(replies) != len(requests):
            error = replies.get("error") if isinstance(replies, dict) else replies
            raise ChainError(f"{self.url} refused a batch of {len(requests)} requests ({what}): {error}")
        return [dict(reply) for reply in replies]

    def _eth_call(self, name: str, args: Sequence[Any], block: int | str = "latest") -> tuple[str, list[Any]]:
        data = self._selectors[name] + encode(self._inputs[name], list(args)).hex()
        return ("eth_call", [{"to": self.address, "data": data}, _block_param(block)])

    def _result(self, name: str, reply: dict[str, Any]) -> str:
        """The hex result of one eth_call reply; a revert becomes the contract's named error."""
        if "error" in reply:
            raise self._call_error(name, reply["error"])
        result = reply.get("result")
        if not isinstance(result, str) or not result.startswith("0x"):
            raise ChainError(f"{name}: {self.url} answered {result!r} instead of hex data")
        return result

    def _call_error(self, name: str, error: Any) -> ChainError:
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            try:
                return decode_revert_data(bytes.fromhex(data[2:]), self.abi)
            except ValueError:
                pass
        message = str(error.get("message") if isinstance(error, dict) else error)
        if "revert" in message.lower():
            return ContractRevert("Reverted", {}, f"the contract reverted: {message}")
        return ChainError(f"{name} failed on {self.url}: {message}")

    def _decode(self, name: str, result: str) -> Any:
        outputs = self._outputs[name]
        raw = bytes.fromhex(result[2:])
        if not raw and outputs:
            raise ChainError(
                f"{name}: nothing answered at {self.address} on {self.url}; is the registry deployed there?"
            )
        try:
            values = decode([_abi_type(o) for o in outputs], raw)
        except (DecodingError, ValueError) as exc:
            raise ChainError(f"{name}: {self.url} answered data that does not decode: {exc}") from exc
        normalised = [_normalise(o, v) for o, v in zip(outputs, values, strict=True)]
        return normalised[0] if len(normalised) == 1 else normalised

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> Any:
        method, params = self._eth_call(name, args, block)
        return self._decode(name, self._result(name, self._request(method, params, name)))

    def version(self) -> str:
        return str(self._call("VERSION"))

    def governor(self) -> str:
        return str(self._call("owner"))

    def scope(self, scope_id: str) -> ScopeInfo:
        return _scope_info(scope_id, self._call("scope", _b32(scope_id)))

    def scope_count(self) -> int:
        return int(self._call("scopeCount"))

    def scope_id_at(self, index: int) -> str:
        return _hex(self._call("scopeIdAt", index))

    def agency(self, agency_id: int) -> AgencyInfo:
        return _agency_info(agency_id, self._call("agency", agency_id))

    def agency_count(self) -> int:
        return int(self._call("agencyCount"))

    def signer(self, address: str) -> SignerInfo:
        return _signer_info(address, self._call("signerRecord", to_checksum_address(address)))

    def signer_count(self) -> int:
        return int(self._call("signerCount"))

    def signer_at(self, index: int) -> str:
        return str(self._call("signerAt", index))

    def accreditation(self, agency_id: int, scope_id: str) -> AccreditationInfo:
        return _accreditation_info(
            agency_id, scope_id, self._call("accreditation", agency_id, _b32(scope_id))
        )

    def record(self, root: str) -> CredentialRecord:
        return _record(root, self._call("record", _b32(root)))

    def status_of(self, target: str) -> TargetStatus:
        state, reason, nonce, since, by = self._call("statusOf", _b32(target))
        return TargetStatus(target, TargetState(state), reason, nonce, since, by)

    def is_issued(self, root: str) -> bool:
        return bool(self._call("isIssued", _b32(root)))

    def is_revoked(self, target: str) -> bool:
        return bool(self._call("isRevoked", _b32(target)))

    def credential_status(self, root: str, leaf: str, proof: Sequence[str]) -> CredentialState:
        raw = self._call("credentialStatus", _b32(root), _b32(leaf), [_b32(p) for p in proof])
        return _credential_state(root, raw)

    def _status_call(
        self, root: str, leaf: str, proof: Sequence[str], block: int | str
    ) -> tuple[str, list[Any]]:
        data = (
            self._status_selector
            + _word(root)
            + _word(leaf)
            + _PROOF_OFFSET
            + f"{len(proof):064x}"
            + "".join(_word(p) for p in proof)
        )
        return ("eth_call", [{"to": self.address, "data": data}, _block_param(block)])

    def _statuses(
        self, queries: Sequence[tuple[str, str, Sequence[str]]], replies: Sequence[dict[str, Any]]
    ) -> list[CredentialState]:
        return [
            _status_from_words(root, self._result("credentialStatus", reply))
            for (root, _leaf, _proof), reply in zip(queries, replies, strict=True)
        ]

    def credential_statuses(
        self, queries: Sequence[tuple[str, str, Sequence[str]]], block: int | str = "latest"
    ) -> list[CredentialState]:
        """Many `credentialStatus` calls at `block`, `STATUS_BATCH` to a JSON-RPC batch (one round trip each)."""
        calls = [self._status_call(root, leaf, proof, block) for root, leaf, proof in queries]
        results: list[CredentialState] = []
        for start in range(0, len(calls), STATUS_BATCH):
            replies = self._batch(calls[start : start + STATUS_BATCH], "credentialStatus batch")
            results += self._statuses(queries[start : start + STATUS_BATCH], replies)
        return results

    def statuses_at_head(
        self, queries: Sequence[tuple[str, str, Sequence[str]]]
    ) -> tuple[BlockHead, list[CredentialState]]:
        """The latest block, and the credentials' statuses at exactly that block.

        The calls are pinned to the block the previous read found at the head, and the same JSON-RPC batch
        asks for the latest block: while no new block arrives that is one round trip. When one has, the
        pinned answers are dropped and the calls repeated at the new head, so no answer is ever older than
        the latest block the node reported.
        """
        hint = self._head_hint
        first = queries[:STATUS_BATCH]
        if hint is not None:
            replies = self._batch(
                [("eth_getBlockByNumber", ["latest", False])]
                + [self._status_call(root, leaf, proof, hint) for root, leaf, proof in first],
                "credentialStatus batch",
            )
            head = self._head_from(replies[0])
            if head.number == hint:
                states = self._statuses(first, replies[1:])
                return head, states + self.credential_statuses(queries[STATUS_BATCH:], hint)
        else:
            head = self.latest_head()
        # Racing threads may set an older head here; the next read then simply takes one more round trip.
        self._head_hint = head.number
        return head, self.credential_statuses(queries, head.number)

    def latest_head(self) -> BlockHead:
        return self._head_from(self._request("eth_getBlockByNumber", ["latest", False], "eth_getBlock"))

    def _head_from(self, reply: dict[str, Any]) -> BlockHead:
        block = reply.get("result")
        if "error" in reply or not isinstance(block, dict) or "timestamp" not in block:
            raise ChainError(f"{self.url} did not give the latest block: {reply.get('error', block)}")
        try:
            return BlockHead(
                int(block["number"], 16), str(block["hash"]).lower(), int(block["timestamp"], 16)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ChainError(f"{self.url} answered a block header that does not read: {exc}") from exc

    def _fact_requests(
        self,
        block: int | str,
        agency_ids: Sequence[int],
        scope_ids: Sequence[str],
        signer_keys: Sequence[str],
        pairs: Sequence[tuple[int, str]],
    ) -> list[tuple[str, list[Any]]]:
        return (
            [self._eth_call("agency", [a], block) for a in agency_ids]
            + [self._eth_call("scope", [_b32(s)], block) for s in scope_ids]
            + [self._eth_call("signerRecord", [to_checksum_address(s)], block) for s in signer_keys]
            + [self._eth_call("accreditation", [a, _b32(s)], block) for a, s in pairs]
        )

    def _read_facts(
        self,
        replies: Iterable[dict[str, Any]],
        agency_ids: Sequence[int],
        scope_ids: Sequence[str],
        signer_keys: Sequence[str],
        pairs: Sequence[tuple[int, str]],
    ) -> _BlockFacts:
        answers = iter(replies)

        def read(name: str) -> Any:
            return self._decode(name, self._result(name, next(answers)))

        return _BlockFacts(
            agencies={a: _agency_info(a, read("agency")) for a in agency_ids},
            scopes={s: _scope_info(s, read("scope")) for s in scope_ids},
            signers={s: _signer_info(s, read("signerRecord")) for s in signer_keys},
            accreditations={(a, s): _accreditation_info(a, s, read("accreditation")) for a, s in pairs},
        )

    def snapshot(
        self,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
        block: int | str = "latest",
    ) -> Snapshot:
        """`block`'s time and the given agencies, scopes, signer keys and accreditations at that block, read in
        one JSON-RPC batch round trip (what a verifier needs beside the credentials' own statuses)."""
        agency_ids, scope_ids = sorted(set(agencies)), sorted(set(scopes))
        signer_keys, pairs = sorted(set(signers)), sorted(set(accreditations))
        requests = [("eth_getBlockByNumber", [_block_param(block), False])]
        requests += self._fact_requests(block, agency_ids, scope_ids, signer_keys, pairs)
        replies = self._batch(requests, "registry snapshot")
        header = replies[0]
        head = header.get("result")
        if "error" in header or not isinstance(head, dict) or "timestamp" not in head:
            raise ChainError(f"{self.url} did not give block {block}: {header.get('error', head)}")
        facts = self._read_facts(replies[1:], agency_ids, scope_ids, signer_keys, pairs)
        return facts.snapshot(int(head["timestamp"], 16))

    def facts_at(
        self,
        head: BlockHead,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
    ) -> Snapshot:
        """Like `snapshot`, at block `head`, remembering what was read for that block.

        Agencies, scopes, signer keys and accreditations change only in a new block, so what one block says
        serves every later request pinned to the same block; a new head starts afresh (the last
        `FACT_BLOCKS` heads are kept). Entries are keyed by the block's hash and read at its number, so a
        block replaced in a reorganisation is never answered for.
        """
        with self._facts_lock:
            known = self._facts.get(head.hash)
            if known is None:
                known = self._facts[head.hash] = _BlockFacts({}, {}, {}, {})
                while len(self._facts) > FACT_BLOCKS:
                    self._facts.popitem(last=False)
            agency_ids = sorted(set(agencies) - known.agencies.keys())
            scope_ids = sorted(set(scopes) - known.scopes.keys())
            signer_keys = sorted(set(signers) - known.signers.keys())
            pairs = sorted(set(accreditations) - known.accreditations.keys())
        missing = _BlockFacts({}, {}, {}, {})
        if agency_ids or scope_ids or signer_keys or pairs:
            requests = self._fact_requests(head.number, agency_ids, scope_ids, signer_keys, pairs)
            replies = self._batch(requests, "registry facts")
            missing = self._read_facts(replies, agency_ids, scope_ids, signer_keys, pairs)
        with self._facts_lock:
            known.merge(missing)
            return known.snapshot(head.timestamp)

    def block_time(self, block: int | None = None) -> int:
        """The timestamp of `block` (default: the latest)."""
        reply = self._request(
            "eth_getBlockByNumber",
            [_block_param("latest" if block is None else block), False],
            "eth_getBlock",
        )
        header = reply.get("result")
        if "error" in reply or not isinstance(header, dict) or "timestamp" not in header:
            raise ChainError(f"{self.url} has no block {block if block is not None else 'latest'}: {reply}")
        return int(header["timestamp"], 16)

    def head(self) -> int:
        return int(with_retries(lambda: self.w3.eth.block_number, what="eth_blockNumber", url=self.url))

    # --- writes ----------------------------------------------------------------------------------------

    def sender(self, account: LocalAccount, confirmations: int = 0) -> TxSender:
        return TxSender(self.w3, account, abi=self.abi, confirmations=confirmations)

    def build(self, name: str, *args: Any) -> TxParams:
        """The transaction calling `name(*args)` on the registry, without gas, fees or nonce."""
        data = self.contract.encode_abi(name, args=list(args))
        return cast(TxParams, {"to": self.address, "data": data})

    def sign_issue(self, signer: LocalAccount, request: IssueRequest) -> SignedIssue:
        return SignedIssue(
            chain_id=self.domain.chain_id,
            registry=self.address,
            request=request,
            signature=sign(signer, self.domain, request),
        )

    def sign_status_change(
        self,
        signer: LocalAccount,
        root: str,
        target: str,
        proof: Sequence[str],
        action: StatusAction,
        reason: int = 0,
        deadline: int | None = None,
        valid_for: int = 3600,
    ) -> SignedStatusChange:
        """Sign a status change with the target's current nonce, good until `deadline` (default: 1 h)."""
        nonce = self.status_of(target).nonce
        if deadline is None:
            deadline = max(self.block_time(), int(time.time())) + valid_for
        request = StatusChangeRequest(
            root=root, target=target, action=action, reason=reason, nonce=nonce, deadline=deadline
        )
        return SignedStatusChange(
            chain_id=self.domain.chain_id,
            registry=self.address,
            request=request,
            proof=list(proof),
            signature=sign(signer, self.domain, request),
        )


@dataclass(frozen=True)
class Snapshot:
    """Registry facts read together, with their block's time (see `Registry.snapshot`)."""

    block_time: int
    agencies: dict[int, AgencyInfo]
    scopes: dict[str, ScopeInfo]
    signers: dict[str, SignerInfo]
    accreditations: dict[tuple[int, str], AccreditationInfo]


@dataclass
class _BlockFacts:
    """What one block says about agencies, scopes, signer keys and accreditations (see `Registry.facts_at`)."""

    agencies: dict[int, AgencyInfo]
    scopes: dict[str, ScopeInfo]
    signers: dict[str, SignerInfo]
    accreditations: dict[tuple[int, str], AccreditationInfo]

    def merge(self, other: _BlockFacts) -> None:
        self.agencies.update(other.agencies)
        self.scopes.update(other.scopes)
        self.signers.update(other.signers)
        self.accreditations.update(other.accreditations)

    def snapshot(self, block_time: int) -> Snapshot:
        return Snapshot(
            block_time, dict(self.agencies), dict(self.scopes), dict(self.signers), dict(self.accreditations)
        )


def _agency_info(agency_id: int, raw: Sequence[Any]) -> AgencyInfo:
    name, code, admin, state, reason, cutoff = raw
    return AgencyInfo(agency_id, name, code, admin, AgencyState(state), int(reason), int(cutoff))


def _scope_info(scope_id: str, raw: Sequence[Any]) -> ScopeInfo:
    code, level, index, title = raw
    return ScopeInfo(scope_id, code, int(level), int(index), title)


def _signer_info(address: str, raw: Sequence[Any]) -> SignerInfo:
    agency_id, index, valid_from, valid_until, compromised = raw
    return SignerInfo(_checksum(address), agency_id, index, valid_from, valid_until, compromised)


def _accreditation_info(agency_id: int, scope_id: str, raw: Sequence[Any]) -> AccreditationInfo:
    scope_index, valid_from, valid_until = raw
    return AccreditationInfo(agency_id, scope_id, scope_index, valid_from, valid_until)


def _status_from_words(root: str, result: str) -> CredentialState:
    """`credentialStatus`'s nine words: verdict, target, reason, since, then the record's five fields."""
    h = result.lower()
    if len(h) != _STATUS_HEX_LENGTH:
        raise ChainError(f"credentialStatus answered {(len(h) - 2) // 2} bytes; 288 expected")
    if h[386:410] != "0" * 24:
        raise ChainError("credentialStatus answered a signer word that is not an address")
    try:
        verdict = Verdict(int(h[2:66], 16))
    except ValueError:
        raise ChainError(f"credentialStatus answered an unknown verdict {int(h[2:66], 16)}") from None
    record = CredentialRecord(
        root,
        int(h[258:322], 16),
        "0x" + h[322:386],
        _checksum("0x" + h[410:450]),
        int(h[450:514], 16),
        int(h[514:578], 16),
    )
    return CredentialState(verdict, "0x" + h[66:130], int(h[130:194], 16), int(h[194:258], 16), record)


def _record(root: str, raw: Sequence[Any]) -> CredentialRecord:
    agency_id, scope_id, signer, issued_at, valid_until = raw
    return CredentialRecord(
        root, int(agency_id), _hex(scope_id), str(signer), int(issued_at), int(valid_until)
    )


def _credential_state(root: str, raw: Sequence[Any]) -> CredentialState:
    verdict, target, reason, since, record = raw
    return CredentialState(Verdict(verdict), _hex(target), int(reason), int(since), _record(root, record))


class _Actor:
    def __init__(self, registry: Registry, account: LocalAccount, confirmations: int = 0) -> None:
        self.registry = registry
        self.account = account
        self.sender = registry.sender(account, confirmations)

    def _send(self, name: str, *args: Any) -> TxReceipt:
        return self.sender.send(self.registry.build(name, *args))

    def _event(self, receipt: TxReceipt, name: str) -> dict[str, Any]:
        for log in receipt["logs"]:
            event = self.registry.events.decode(dict(log))
            if event is not None and event.name == name:
                return event.args
        raise ContractRevert("MissingEvent", {"event": name}, f"the transaction emitted no {name} event")


class Governor(_Actor):
    """The accrediting authority: defines scopes, registers and accredits agencies, can overrule statuses."""

    def define_scope(self, occupation_code: str, level: int, title: str) -> str:
        receipt = self._send("defineScope", occupation_code, level, title)
        return str(self._event(receipt, "ScopeDefined")["scopeId"])

    def register_agency(self, name: str, registration_code: str, admin: str) -> int:
        receipt = self._send("registerAgency", name, registration_code, to_checksum_address(admin))
        return int(self._event(receipt, "AgencyRegistered")["agencyId"])

    def accredit(self, agency_id: int, scope_id: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("accredit", agency_id, _b32(scope_id), valid_from, valid_until)

    def withdraw_accreditation(self, agency_id: int, scope_id: str) -> TxReceipt:
        return self._send("withdrawAccreditation", agency_id, _b32(scope_id))

    def suspend_agency(self, agency_id: int, reason: int = 0) -> TxReceipt:
        return self._send("suspendAgency", agency_id, reason)

    def reinstate_agency(self, agency_id: int) -> TxReceipt:
        return self._send("reinstateAgency", agency_id)

    def revoke_agency(self, agency_id: int, cutoff: int, reason: int = 0) -> TxReceipt:
        return self._send("revokeAgency", agency_id, cutoff, reason)

    def set_status(
        self, root: str, target: str, proof: Sequence[str], action: StatusAction, reason: int = 0
    ) -> TxReceipt:
        return self._send(
            "governorSetStatus", _b32(root), _b32(target), [_b32(p) for p in proof], int(action), reason
        )

    def transfer_governor(self, new_governor: str) -> TxReceipt:
        """Propose a new governor; it takes over only when it calls `accept_governor`."""
        return self._send("transferOwnership", to_checksum_address(new_governor))

    def accept_governor(self) -> TxReceipt:
        return self._send("acceptOwnership")

    # The governor may also manage any agency's keys.
    def add_signer(self, agency_id: int, signer: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("addSigner", agency_id, to_checksum_address(signer), valid_from, valid_until)

    def report_compromised(self, signer: str, since: int) -> TxReceipt:
        return self._send("reportCompromised", to_checksum_address(signer), since)


class AgencyAdmin(_Actor):
    """An agency's admin key: manages the agency's signer keys."""

    def add_signer(self, agency_id: int, signer: str, valid_from: int, valid_until: int = 0) -> TxReceipt:
        return self._send("addSigner", agency_id, to_checksum_address(signer), valid_from, valid_until)

    def retire_signer(self, signer: str) -> TxReceipt:
        return self._send("retireSigner", to_checksum_address(signer))

    def report_compromised(self, signer: str, since: int) -> TxReceipt:
        return self._send("reportCompromised", to_checksum_address(signer), since)

    def transfer_admin(self, agency_id: int, new_admin: str) -> TxReceipt:
        return self._send("transferAgencyAdmin", agency_id, to_checksum_address(new_admin))


class Relayer(_Actor):
    """Any funded account: submits agency-signed requests. It needs no authority of its own."""

    def issue_tx(self, signed: SignedIssue) -> TxParams:
        self._check_domain(signed.chain_id, signed.registry)
        req = signed.request
        return self.registry.build(
            "issue",
            _b32(req.root),
            _b32(req.scope_id),
            req.valid_until,
            _b32(signed.signature.r),
            _b32(signed.signature.vs),
        )

    def status_change_tx(self, signed: SignedStatusChange) -> TxParams:
        self._check_domain(signed.chain_id, signed.registry)
        req = signed.request
        return self.registry.build(
            "setStatus",
            _b32(req.root),
            _b32(req.target),
            [_b32(p) for p in signed.proof],
            int(req.action),
            req.reason,
            req.deadline,
            _b32(signed.signature.r),
            _b32(signed.signature.vs),
        )

    def issue(self, signed: SignedIssue) -> TxReceipt:
        return self.sender.send(self.issue_tx(signed))

    def set_status(self, signed: SignedStatusChange) -> TxReceipt:
        return self.sender.send(self.status_change_tx(signed))

    def _check_domain(self, chain_id: int, registry: str) -> None:
        if (
            chain_id != self.registry.domain.chain_id
            or to_checksum_address(registry) != self.registry.address
        ):
            raise WrongChain(
                f"the request was signed for registry {registry} on chain {chain_id}, "
                f"not {self.registry.address} on chain {self.registry.domain.chain_id}"
            )


__all__ = [
    "ZERO_HASH",
    "AccreditationInfo",
    "AgencyAdmin",
    "AgencyInfo",
    "AgencyState",
    "BlockHead",
    "CredentialRecord",
    "CredentialState",
    "Governor",
    "Registry",
    "Relayer",
    "ScopeInfo",
    "SignedIssue",
    "SignedStatusChange",
    "SignerInfo",
    "Snapshot",
    "TargetState",
    "TargetStatus",
    "Verdict",
    "scope_id_of",
]
