"""Reading the credential registry: one connection, plain JSON-RPC calls and batches, decoded by the one codec.

    registry = Registry.connect(rpc_url, Manifest.load(path))
    state = registry.credential_status(agency_id, root, leaf, proof)

Writes are in `credreg.registry.roles` (Governor, AgencyAdmin, Relayer) and signed requests in
`credreg.registry.requests`.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from credreg.chain.artifacts import Artifact, load_artifact
from credreg.chain.codec import ContractCodec, checksum, hash32
from credreg.chain.eip712 import Domain, IssueRequest, StatusAction, StatusChangeRequest
from credreg.chain.manifest import Manifest
from credreg.chain.redact import redact_url
from credreg.chain.rpc import (
    HttpRpc,
    ProviderRpc,
    RpcTransport,
    check_rpc_url,
    split_rpc_urls,
    uses_proxy,
    with_retries,
)
from credreg.chain.states import AgencyState, Status, Verdict
from credreg.errors import ChainError, ContractRevert, WrongChain, WrongContractVersion
from credreg.registry.records import (
    AccreditationInfo,
    AgencyInfo,
    BlockHead,
    CredentialRecord,
    CredentialState,
    IssuerKeyInfo,
    ScopeInfo,
    SignerInfo,
    Snapshot,
    TargetStatus,
)

if TYPE_CHECKING:
    # Reading needs none of these (web3.py, eth-account): a verifier starts without them (see `connect`).
    from eth_account.signers.local import LocalAccount
    from eth_typing import ChecksumAddress
    from web3 import Web3
    from web3.contract import Contract
    from web3.types import TxParams

    from credreg.chain.events import EventDecoder
    from credreg.chain.transactions import TxSender
    from credreg.registry.requests import SignedIssue, SignedStatusChange

ZERO_HASH = "0x" + "00" * 32
REGISTRY_CONTRACT = "CredentialRegistry"
#: The contract version this code reads and writes (its major version must match the registry's VERSION()).
CONTRACT_VERSION = "2.0.0"
# Calls per JSON-RPC batch: Besu serves up to 1,024 by default (--rpc-http-max-batch-size).
STATUS_BATCH = 500
# Call data per JSON-RPC batch, in hex digits: about 1 MB of request body (Besu and GoQuorum take 5 MiB).
STATUS_BATCH_DATA = 1_000_000
# Status reads are creation calls of contracts/readers/StatusReader.sol (never deployed), each answering many
# queries. Measured on anvil over 10,000 documents of one batch (14-step proofs), a document costs the node 64
# µs of CPU this way against 89 µs with a `credentialStatus` call each (9 against 45 µs for a root nobody
# issued: the calls' own overhead is gone, the contract's work remains), and this process 10 µs against 25;
# 5.6 µs since the calls are written from the queries' hex text (`_reader_data`) and the JSON by orjson.
# A creation call's code and arguments may be at most 49,152 bytes (EIP-3860) and what its constructor
# returns at most 24,576 (EIP-170); an answer is 288 bytes, a query 4 words and its proof: 81 queries with
# 14-step proofs to a call, 85 without proofs.
STATUS_READER = "StatusReader"
READER_CALL_BYTES = 49_152
READER_ANSWER_BYTES = 288
READER_ANSWERS = (24_576 - 64) // READER_ANSWER_BYTES
READER_QUERY_WORDS = 4
READER_FIXED_WORDS = 11  # the six arguments' head and the five arrays' lengths
# 81 queries with 14-step proofs from all over a 10,000-leaf tree take about 10.5 million gas (130,000 each,
# 57,600 of it the deposit of its 288 bytes of answer): room to spare, within anvil's 30 million a block and
# the 16.8 million a transaction may have from Osaka on (EIP-7825).
READER_GAS = 15_000_000
# Blocks whose facts (agencies, scopes, signer keys, accreditations) are kept: the head and a few before it,
# for requests still being answered at a block that has just been superseded.
FACT_BLOCKS = 4

#: One credential's status query: (agency id, root, leaf, proof).
StatusQuery = tuple[int, str, str, Sequence[str]]


class LedgerReads(Protocol):
    """What verification reads from the ledger: a `Registry`, or a cache of its answers that names the block
    they are of (`credreg.service.ledgercache`)."""

    @property
    def address(self) -> str: ...

    @property
    def domain(self) -> Domain: ...

    def statuses(
        self, queries: Sequence[StatusQuery], *, at: BlockHead | None = None
    ) -> tuple[BlockHead, list[CredentialState]]: ...

    def facts_at(
        self,
        head: BlockHead,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
    ) -> Snapshot: ...


def same_major(version: str, expected: str = CONTRACT_VERSION) -> bool:
    return version.split(".")[0] == expected.split(".")[0]


def _block_param(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


class Registry:
    """A connection to one deployed CredentialRegistry: reads, and the pieces writers need."""

    def __init__(self, connection: Web3 | RpcTransport, manifest: Manifest) -> None:
        """`connection`: a `Web3` (its provider serves the reads too), or a plain transport (`HttpRpc`), in
        which case web3.py is loaded only if something writes or asks for `w3`."""
        # A manifest made from a trust list does not know the version; `check_deployment` asks the contract.
        stated = manifest.contract_version
        if stated[:1].isdigit() and not same_major(stated):
            raise WrongContractVersion("the deployment manifest", stated, CONTRACT_VERSION)
        self._w3: Web3 | None
        self.rpc: RpcTransport
        if isinstance(connection, HttpRpc):
            self._w3, self.rpc = None, connection
        else:
            w3 = cast("Web3", connection)
            self._w3, self.rpc = w3, ProviderRpc(w3.provider)
        self.manifest = manifest
        self.abi: list[dict[str, Any]] = load_artifact(REGISTRY_CONTRACT).abi
        self.codec = ContractCodec(self.abi)
        self.address = checksum(manifest.registry_address)
        self.domain = Domain(chain_id=manifest.chain_id, registry=self.address)
        # See `statuses` and `facts_at`.
        self._head_hint: int | None = None
        self._facts: OrderedDict[str, _BlockFacts] = OrderedDict()
        self._facts_lock = threading.Lock()
        #: Why the node is read one `credentialStatus` call a query, if it refused a status reader call.
        self.reader_refusal: str | None = None

    @classmethod
    def connect(cls, rpc_url: str, manifest: Manifest, *, check: bool = True) -> Registry:
        """Connect and make sure the endpoint serves the manifest's chain and contract.

        One node is read through the plain transport (`credreg.chain.rpc`); several, or one behind an HTTP
        proxy named in the environment (which requests honours, with its exceptions), through web3.py
        (`credreg.chain.client.connect`)."""
        urls = split_rpc_urls(check_rpc_url(rpc_url))
        if len(urls) == 1 and not uses_proxy():
            registry = cls(HttpRpc(urls[0]), manifest)
        else:
            from credreg.chain.client import connect

            registry = cls(connect(rpc_url), manifest)
        if check:
            registry.check_deployment()
        return registry

    @property
    def w3(self) -> Web3:
        """A web3.py client of the same node, for writes (made on first use when reads needed none)."""
        if self._w3 is None:
            from credreg.chain.client import connect

            self._w3 = connect(self.rpc.url)
        return self._w3

    @functools.cached_property
    def contract(self) -> Contract:
        contract: Contract = self.w3.eth.contract(address=cast("ChecksumAddress", self.address), abi=self.abi)
        return contract

    @functools.cached_property
    def events(self) -> EventDecoder:
        from credreg.chain.events import EventDecoder

        return EventDecoder(self.codec)

    @property
    def url(self) -> str:
        """The node's URL as a person may see it: credentials masked."""
        return redact_url(self.rpc.url)

    def check_deployment(self, *, require_version: bool = True) -> None:
        """Refuse an endpoint that serves another chain, no contract at the address, or a registry of another
        contract version. With `require_version` off, a contract that does not answer VERSION() at all is
        let through (an audit examines such a contract; a registry that names another version never is)."""
        # One round trip for the three questions: a one-file `credreg verify` makes five in all.
        chain, code, answer = self._batch(
            [("eth_chainId", []), ("eth_getCode", [self.address, "latest"]), self._eth_call("VERSION", [])],
            "eth_chainId, eth_getCode and VERSION()",
        )
        actual = int(self._hex(chain, "eth_chainId"), 16)
        if actual != self.manifest.chain_id:
            raise WrongChain(
                f"{self.url} serves chain {actual}, but the deployment manifest is for chain {self.manifest.chain_id}"
            )
        if self._hex(code, "eth_getCode") in ("0x", ""):
            raise WrongChain(
                f"there is no contract at {self.address} on chain {actual}; is the manifest current?"
            )
        try:
            version = str(self._decode("VERSION", self._result("VERSION", answer)))
        except ChainError as exc:
            if not require_version:
                return
            raise WrongChain(
                f"the contract at {self.address} on chain {actual} does not answer VERSION(); "
                f"it is not a credreg registry ({exc})"
            ) from exc
        if not same_major(version):
            raise WrongContractVersion(f"the registry at {self.address}", version, CONTRACT_VERSION)

    # --- reads -----------------------------------------------------------------------------------------

    # Reads go to the node as plain JSON-RPC (eth_call, batches of them) and are decoded here: web3.py's
    # contract-call machinery costs more than the node's answer (it also asks for the chain id on every
    # call), and verifying thousands of documents a second leaves no room for it.

    def _request(self, method: str, params: list[Any], what: str) -> dict[str, Any]:
        return with_retries(lambda: self.rpc.request(method, params), what=what, url=self.url)

    def _value(self, method: str, params: list[Any], what: str) -> str:
        """The hex string a plain JSON-RPC method answers (a chain id, code, a block number)."""
        return self._hex(self._request(method, params, what), method)

    def _hex(self, reply: dict[str, Any], method: str) -> str:
        result = reply.get("result")
        if "error" in reply or not isinstance(result, str) or not result.startswith("0x"):
            raise ChainError(f"{method} failed on {self.url}: {reply.get('error', result)!r}")
        return result

    def _batch(self, requests: Sequence[tuple[str, list[Any]]], what: str) -> list[dict[str, Any]]:
        """`requests` in one JSON-RPC batch round trip; replies in request order."""
        if not requests:
            return []
        replies: Any = with_retries(lambda: self.rpc.batch(requests), what=what, url=self.url)
        if not isinstance(replies, list) or len(replies) != len(requests):
            error = replies.get("error") if isinstance(replies, dict) else replies
            raise ChainError(f"{self.url} refused a batch of {len(requests)} requests ({what}): {error}")
        return [dict(reply) for reply in replies]

    def _eth_call(self, name: str, args: Sequence[Any], block: int | str = "latest") -> tuple[str, list[Any]]:
        data = self.codec.call_data(name, *args)
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
            from credreg.chain.reverts import decode_revert_data

            try:
                return decode_revert_data(bytes.fromhex(data[2:]), self.abi)
            except ValueError:
                pass
        message = str(error.get("message") if isinstance(error, dict) else error)
        if "revert" in message.lower():
            return ContractRevert("Reverted", {}, f"the contract reverted: {message}")
        return ChainError(f"{name} failed on {self.url}: {message}")

    def _decode(self, name: str, result: str) -> Any:
        try:
            return self.codec.decode_result(name, result)
        except ChainError as exc:
            raise ChainError(f"{exc} (registry {self.address} on {self.url})") from exc

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> Any:
        method, params = self._eth_call(name, args, block)
        return self._decode(name, self._result(name, self._request(method, params, name)))

    def version(self) -> str:
        return str(self._call("VERSION"))

    def governor(self) -> str:
        return str(self._call("owner"))

    def scope(self, scope_id: str) -> ScopeInfo:
        return _scope_info(scope_id, self._call("scope", hash32(scope_id)))

    def scope_count(self) -> int:
        return int(self._call("scopeCount"))

    def scope_id_at(self, index: int) -> str:
        return str(self._call("scopeIdAt", index))

    def agency(self, agency_id: int) -> AgencyInfo:
        return _agency_info(agency_id, self._call("agency", agency_id))

    def agency_count(self) -> int:
        return int(self._call("agencyCount"))

    def signer(self, address: str) -> SignerInfo:
        return _signer_info(address, self._call("signerRecord", checksum(address)))

    def signer_count(self) -> int:
        return int(self._call("signerCount"))

    def signer_at(self, index: int) -> str:
        return str(self._call("signerAt", index))

    def accreditation(self, agency_id: int, scope_id: str) -> AccreditationInfo:
        return _accreditation_info(
            agency_id, scope_id, self._call("accreditation", agency_id, hash32(scope_id))
        )

    def issuer_key(self, public_key: str) -> IssuerKeyInfo:
        return _issuer_key_info(public_key, self._call("issuerKey", hash32(public_key)))

    def record(self, agency_id: int, root: str) -> CredentialRecord:
        return _record(root, self._call("record", agency_id, hash32(root)))

    def status_of(self, agency_id: int, target: str) -> TargetStatus:
        status, reason, nonce, since, by_governor = self._call("statusOf", agency_id, hash32(target))
        return TargetStatus(agency_id, hash32(target), Status(status), reason, nonce, since, by_governor)

    def is_issued(self, agency_id: int, root: str) -> bool:
        return bool(self._call("isIssued", agency_id, hash32(root)))

    def is_revoked(self, agency_id: int, target: str) -> bool:
        return bool(self._call("isRevoked", agency_id, hash32(target)))

    def issued_by(self, root: str) -> list[int]:
        """Every agency that recorded `root` in its namespace (usually one; a hash recorded by several
        agencies is several independent records), read in JSON-RPC batches."""
        count = self.agency_count()
        agencies = list(range(1, count + 1))
        found: list[int] = []
        for start in range(0, len(agencies), STATUS_BATCH):
            chunk = agencies[start : start + STATUS_BATCH]
            replies = self._batch(
                [self._eth_call("isIssued", [a, hash32(root)]) for a in chunk], "isIssued batch"
            )
            found += [
                a
                for a, r in zip(chunk, replies, strict=True)
                if self._decode("isIssued", self._result("isIssued", r))
            ]
        return found

    def document_store(self, agency_id: int) -> str:
        """The agency's own OpenAttestation document store (the address its documents name)."""
        return self.agency(agency_id).document_store

    def credential_status(
        self, agency_id: int, root: str, leaf: str, proof: Sequence[str]
    ) -> CredentialState:
        """One credential's status at the latest block (see `statuses`)."""
        query = (agency_id, hash32(root), hash32(leaf), [hash32(p) for p in proof])
        return self.statuses([query])[1][0]

    def _status_call(self, query: StatusQuery, block: int | str) -> tuple[str, list[Any]]:
        agency_id, root, leaf, proof = query
        return self._eth_call("credentialStatus", [agency_id, root, leaf, list(proof)], block)

    def _reader_chunks(self, queries: Sequence[StatusQuery]) -> Iterator[Sequence[StatusQuery]]:
        """`queries` in runs that fit one reader call: its code and arguments within `READER_CALL_BYTES`, its
        answer within `READER_ANSWERS`."""
        room = _reader_room()
        start, words = 0, 0
        for end, query in enumerate(queries):
            size = READER_QUERY_WORDS + len(query[3])
            if end > start and (end - start == READER_ANSWERS or words + size > room):
                yield queries[start:end]
                start, words = end, 0
            words += size
        if start < len(queries):
            yield queries[start:]

    def _reader_call(self, queries: Sequence[StatusQuery], block: int) -> tuple[str, list[Any]]:
        """One creation call of `StatusReader` answering every query (see contracts/readers/StatusReader.sol)."""
        reader = _reader()
        ends, total = [], 0
        for query in queries:
            total += len(query[3])
            ends.append(total)
        data = _reader_data(reader.bytecode, self.address, queries, ends)
        if data is None:  # anything not plainly valid is judged, and named, by the codec
            data = _reader_codec().creation_data(
                reader.bytecode,
                self.address,
                [q[0] for q in queries],
                [q[1] for q in queries],
                [q[2] for q in queries],
                ends,
                [word for q in queries for word in q[3]],
            )
        return ("eth_call", [{"data": data, "gas": hex(READER_GAS)}, hex(block)])

    def _status_parts(self, queries: Sequence[StatusQuery], block: int) -> list[_StatusPart]:
        """The requests answering `queries` at `block`: reader calls, or one `credentialStatus` call a query
        once the node has refused the reader. A query whose proof is too long for any reader call (a document
        from a tree no real batch is that deep in) gets a call of its own, so that it cannot make the node
        look like one that refuses the reader."""
        if self.reader_refusal is not None:
            return [_StatusPart([query], self._status_call(query, block), False) for query in queries]
        room = _reader_room()
        return [
            _StatusPart(chunk, self._status_call(chunk[0], block), False)
            if len(chunk) == 1 and READER_QUERY_WORDS + len(chunk[0][3]) > room
            else _StatusPart(chunk, self._reader_call(chunk, block), True)
            for chunk in self._reader_chunks(queries)
        ]

    def _decode_states(
        self,
        queries: Sequence[StatusQuery],
        answers: Iterable[str],
        decoded: dict[tuple[str, str], CredentialState],
    ) -> list[CredentialState]:
        # The documents of one batch mostly get the same answer (valid, and the batch's record), so each
        # distinct answer is decoded once: 14 µs a reply less when all 500 of a batch agree.
        states = []
        for query, answer in zip(queries, answers, strict=True):
            key = (query[1], answer)
            state = decoded.get(key)
            if state is None:
                state = decoded[key] = _credential_state(key[0], self._decode("credentialStatus", key[1]))
            states.append(state)
        return states

    def _statuses(
        self, queries: Sequence[StatusQuery], replies: Sequence[dict[str, Any]]
    ) -> list[CredentialState]:
        """The states in the replies to one `credentialStatus` call a query."""
        return self._decode_states(queries, (self._result("credentialStatus", r) for r in replies), {})

    def _reader_answers(self, count: int, reply: dict[str, Any]) -> list[str] | str:
        """The `count` answers of a reader call's reply, each exactly what one `credentialStatus` call returns
        (its 9 static words); or why the reply is unusable."""
        result = reply.get("result")
        if "error" in reply or not isinstance(result, str):
            return f"it answered {reply.get('error', result)!r}"
        size = 2 * READER_ANSWER_BYTES
        if len(result) != 130 + size * count or result[2:130].lower() != f"{32:064x}{count:064x}":
            return f"it answered {len(result) // 2 - 1} bytes for {count} queries"
        return ["0x" + result[at : at + size] for at in range(130, len(result), size)]

    def _statuses_pinned(self, queries: Sequence[StatusQuery], block: int) -> list[CredentialState]:
        """`credentialStatus` calls at `block`, `STATUS_BATCH` to a JSON-RPC batch (one round trip each)."""
        parts = [_StatusPart([query], self._status_call(query, block), False) for query in queries]
        return self._answer(parts, block)

    def _answer(
        self, parts: Sequence[_StatusPart], block: int, first: Sequence[dict[str, Any]] | None = None
    ) -> list[CredentialState]:
        """The states `parts` answer, sent in `_request_batches`; `first`: the replies to the first batch, if
        already sent. Reader calls the node did not answer are made again one call a query, and once those
        answer the node is taken to refuse reader calls (`reader_refusal`): the rest, and later reads, go
        one call a query."""
        decoded: dict[tuple[str, str], CredentialState] = {}
        states: list[CredentialState] = []
        for batch in _request_batches(parts):
            if first is not None:
                replies, first = first, None
            elif self.reader_refusal is not None and batch[0].reader:
                states += self._statuses_pinned([q for part in batch for q in part.queries], block)
                continue
            else:
                replies = self._batch([part.request for part in batch], "credentialStatus batch")
            answered: list[list[CredentialState] | None] = []
            unanswered: list[StatusQuery] = []
            refusal = None
            for part, reply in zip(batch, replies, strict=True):
                if not part.reader:
                    answer = self._result("credentialStatus", reply)
                    answered.append(self._decode_states(part.queries, [answer], decoded))
                    continue
                answers = self._reader_answers(len(part.queries), reply)
                if isinstance(answers, str):
                    answered.append(None)
                    unanswered += part.queries
                    refusal = answers
                else:
                    answered.append(self._decode_states(part.queries, answers, decoded))
            again = iter(self._statuses_pinned(unanswered, block) if unanswered else [])
            for part, got in zip(batch, answered, strict=True):
                states += got if got is not None else [next(again) for _ in part.queries]
            if refusal is not None:
                self.reader_refusal = f"{self.url} does not answer status reader calls: {refusal}"
        return states

    def statuses(
        self, queries: Sequence[StatusQuery], *, at: BlockHead | None = None
    ) -> tuple[BlockHead, list[CredentialState]]:
        """The credentials' statuses (`credentialStatus`), all at one block, and that block: `at`, or the latest.

        The queries are answered by the `StatusReader`'s creation code sent as `eth_call`s (never deployed),
        each answering up to `READER_ANSWERS` queries; a node that refuses such calls gets one
        `credentialStatus` call a query instead, from then on. The first JSON-RPC batch of calls goes with a
        request for the block's header. Pinned to `at`, an answer from a block of another hash (`at` was
        replaced in a reorganisation) is refused with `ChainError`. Unpinned, the calls are pinned to the
        block the previous read found at the head: while no new block arrives that is one round trip; when
        one has, the calls are repeated at the new head, so no answer is older than the latest block the node
        reported.
        """
        pinned = at.number if at is not None else self._head_hint
        if pinned is not None:
            parts = self._status_parts(queries, pinned)
            first = next(_request_batches(parts), [])
            header = ("eth_getBlockByNumber", [hex(pinned) if at is not None else "latest", False])
            replies = self._batch([header] + [part.request for part in first], "credentialStatus batch")
            head = self._head_from(replies[0])
            if at is not None and head.hash != at.hash.lower():
                raise ChainError(
                    f"block {at.number} on {self.url} is {head.hash} now, not {at.hash}: the chain was reorganised"
                )
            if head.number == pinned:
                return head, self._answer(parts, pinned, replies[1:])
        else:
            head = self.latest_head()
        # Racing threads may set an older head here; the next read then simply takes one more round trip.
        self._head_hint = head.number
        return head, self._answer(self._status_parts(queries, head.number), head.number)

    def latest_head(self) -> BlockHead:
        return self.block_head("latest")

    def block_head(self, block: int | str) -> BlockHead:
        """The number, hash and time of `block` (a number, or "latest")."""
        return self._head_from(
            self._request("eth_getBlockByNumber", [_block_param(block), False], "eth_getBlock")
        )

    def _head_from(self, reply: dict[str, Any]) -> BlockHead:
        block = reply.get("result")
        if "error" in reply or not isinstance(block, dict) or "timestamp" not in block:
            raise ChainError(f"{self.url} did not give the block asked for: {reply.get('error', block)}")
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
            + [self._eth_call("scope", [s], block) for s in scope_ids]
            + [self._eth_call("signerRecord", [checksum(s)], block) for s in signer_keys]
            + [self._eth_call("accreditation", [a, s], block) for a, s in pairs]
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

    def facts_at(
        self,
        head: BlockHead,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
        known_only: bool = False,
    ) -> Snapshot:
        """The given agencies, scopes, signer keys and accreditations at block `head`, with its time, read in one
        JSON-RPC batch round trip (what a verifier needs beside the credentials' own statuses). A block of
        another hash at that height (a reorganisation) is refused with `ChainError`. With `known_only`, what
        was not read before is not read: `LookupError`.

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
            if known_only:
                raise LookupError(f"the facts asked for at block {head.number} are not all read yet")
            requests = [("eth_getBlockByNumber", [hex(head.number), False])]
            requests += self._fact_requests(head.number, agency_ids, scope_ids, signer_keys, pairs)
            replies = self._batch(requests, "registry facts")
            found = self._head_from(replies[0])
            if found.hash != head.hash.lower():
                raise ChainError(
                    f"block {head.number} on {self.url} is {found.hash} now, not {head.hash}: the chain was "
                    "reorganised"
                )
            missing = self._read_facts(replies[1:], agency_ids, scope_ids, signer_keys, pairs)
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

    def _ledger_time(self) -> int | None:
        """The latest block's time, or None when the ledger does not answer (signing needs no ledger)."""
        try:
            return self.block_time()
        except ChainError:
            return None

    def head(self) -> int:
        return int(self._value("eth_blockNumber", [], "eth_blockNumber"), 16)

    # --- writes ----------------------------------------------------------------------------------------

    def sender(self, account: LocalAccount, confirmations: int = 0) -> TxSender:
        from credreg.chain.transactions import TxSender

        return TxSender(self.w3, account, abi=self.abi, confirmations=confirmations)

    def build(self, name: str, *args: Any) -> TxParams:
        """The transaction calling `name(*args)` on the registry, without gas, fees or nonce."""
        return cast("TxParams", {"to": self.address, "data": self.codec.call_data(name, *args)})

    def issue_request(
        self, root: str, scope_id: str, valid_until: int = 0, *, deadline: int | None = None
    ) -> IssueRequest:
        """An issuance request good until `deadline` (default: a day from now)."""
        if deadline is None:
            from credreg.registry.requests import default_deadline

            deadline = default_deadline(self._ledger_time())
        return IssueRequest(
            root=hash32(root), scope_id=hash32(scope_id), valid_until=valid_until, deadline=deadline
        )

    def sign_issue(self, signer: LocalAccount, request: IssueRequest) -> SignedIssue:
        from credreg.registry.requests import sign_issue

        return sign_issue(signer, self.domain, request)

    def status_change_request(
        self,
        agency_id: int,
        root: str,
        target: str,
        action: StatusAction,
        reason: int = 0,
        *,
        deadline: int | None = None,
    ) -> StatusChangeRequest:
        """A status change carrying the target's current nonce in the agency's namespace, good until `deadline`
        (default: a day from now)."""
        if deadline is None:
            from credreg.registry.requests import default_deadline

            deadline = default_deadline(self._ledger_time())
        return StatusChangeRequest(
            agency_id=agency_id,
            root=hash32(root),
            target=hash32(target),
            action=action,
            reason=reason,
            nonce=self.status_of(agency_id, target).nonce,
            deadline=deadline,
        )

    def sign_status_change(
        self,
        signer: LocalAccount,
        agency_id: int,
        root: str,
        target: str,
        proof: Sequence[str],
        action: StatusAction,
        reason: int = 0,
        deadline: int | None = None,
    ) -> SignedStatusChange:
        request = self.status_change_request(agency_id, root, target, action, reason, deadline=deadline)
        from credreg.registry.requests import sign_status_change

        return sign_status_change(signer, self.domain, request, [hash32(p) for p in proof])


@functools.cache
def _reader() -> Artifact:
    return load_artifact(STATUS_READER)


@functools.cache
def _reader_codec() -> ContractCodec:
    return ContractCodec(_reader().abi)


def _reader_room() -> int:
    """The words of queries one reader call can carry beside its code (`READER_CALL_BYTES` in all)."""
    return (READER_CALL_BYTES - len(_reader().bytecode) // 2) // 32 - READER_FIXED_WORDS


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


def _hash_run(values: Sequence[str]) -> str | None:
    """The 32-byte words `values` (64 hex digits, either case, with or without "0x": what the codec takes) as
    one run of lowercase hex digits, checked for the lot at once; None if any is not plainly such a word.

    Documents write their leaves and proofs as bare hex, so those are joined by commas as they are; other
    values lose their "0x" first. The joined text must be 65 characters a value less one, with a comma after
    each 64; without its commas, 64 hex digits a value (`bytes.fromhex` refuses anything but hex digits and
    white space, and white space gives fewer bytes). Fewer commas left means one was inside a value, so a
    match is exactly the values, each one word: a stray comma or a short or long value can never shift the
    words of a call."""
    count = len(values)
    if not count:
        return ""
    commas = "," * (count - 1)
    try:
        joined = ",".join(values)
        if len(joined) != 65 * count - 1 or joined[64::65] != commas:
            joined = ",".join([value[2:] if value[:2] == "0x" else value for value in values])
    except TypeError:
        return None
    if len(joined) != 65 * count - 1 or joined[64::65] != commas:
        return None
    run = joined.replace(",", "")
    try:
        if len(run) != 64 * count or len(bytes.fromhex(run)) != 32 * count:
            return None
    except ValueError:
        return None
    return run.lower()


def _reader_data(
    bytecode: str, registry: str, queries: Sequence[StatusQuery], ends: Sequence[int]
) -> str | None:
    """`StatusReader`'s creation code and its constructor's arguments for `queries` (what
    `ContractCodec.creation_data` gives), built from the queries' hex text in a few joins and one check of
    each array rather than word by word: 1.6 µs of CPU a document against the codec's 4.0 (a call of 81 queries
    with 14-step proofs). None if anything is not plainly valid (then the codec judges it)."""
    count = len(queries)
    if not count or not isinstance(registry, str) or _ADDRESS.match(registry) is None:
        return None
    agency_ids = [q[0] for q in queries]
    if set(map(type, agency_ids)) != {int} or min(agency_ids) < 0 or max(agency_ids) >= 1 << 32:
        return None  # ints alone: a bool is left to the codec, as its `_word` leaves it
    # A batch's documents are mostly one agency's: each distinct id written once.
    id_words = {agency_id: f"{agency_id:064x}" for agency_id in set(agency_ids)}
    ids = map(id_words.__getitem__, agency_ids)
    roots = _hash_run([q[1] for q in queries])
    leaves = _hash_run([q[2] for q in queries])
    proofs = list(itertools.chain.from_iterable([q[3] for q in queries]))
    words = _hash_run(proofs)
    if roots is None or leaves is None or words is None:
        return None
    # Head: the registry and the five arrays' offsets; each array is its length and its words.
    offsets, at = [], 6 * 32
    for length in (count, count, count, count, len(proofs)):
        offsets.append(f"{at:064x}")
        at += 32 * (length + 1)
    size = f"{count:064x}"
    return "".join(
        (
            bytecode,
            "0" * 24,
            registry[2:].lower(),
            *offsets,
            size,
            *ids,
            size,
            roots,
            size,
            leaves,
            size,
            *(f"{end:064x}" for end in ends),
            f"{len(proofs):064x}",
            words,
        )
    )


@dataclass(frozen=True, slots=True)
class _StatusPart:
    """One request of a status read and the queries it answers: a reader call, or one `credentialStatus`."""

    queries: Sequence[StatusQuery]
    request: tuple[str, list[Any]]
    reader: bool


def _request_batches(parts: Sequence[_StatusPart]) -> Iterator[list[_StatusPart]]:
    """`parts` in JSON-RPC batches of at most `STATUS_BATCH` requests and about `STATUS_BATCH_DATA` of data."""
    batch: list[_StatusPart] = []
    size = 0
    for part in parts:
        data = len(part.request[1][0]["data"])
        if batch and (len(batch) == STATUS_BATCH or size + data > STATUS_BATCH_DATA):
            yield batch
            batch, size = [], 0
        batch.append(part)
        size += data
    if batch:
        yield batch


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
    name, code, admin, state, reason, cutoff, document_store = raw
    return AgencyInfo(
        agency_id, name, code, admin, AgencyState(state), int(reason), int(cutoff), document_store
    )


def _scope_info(scope_id: str, raw: Sequence[Any]) -> ScopeInfo:
    code, level, index, title, retired_at = raw
    return ScopeInfo(hash32(scope_id), code, int(level), int(index), title, int(retired_at))


def _signer_info(address: str, raw: Sequence[Any]) -> SignerInfo:
    agency_id, index, valid_from, valid_until, compromised = raw
    return SignerInfo(checksum(address), agency_id, index, valid_from, valid_until, compromised)


def _issuer_key_info(public_key: str, raw: Sequence[Any]) -> IssuerKeyInfo:
    agency_id, valid_from, valid_until, compromised = raw
    return IssuerKeyInfo(hash32(public_key), agency_id, valid_from, valid_until, compromised)


def _accreditation_info(agency_id: int, scope_id: str, raw: Sequence[Any]) -> AccreditationInfo:
    scope_index, valid_from, valid_until = raw
    return AccreditationInfo(agency_id, hash32(scope_id), scope_index, valid_from, valid_until)


def _record(root: str, raw: Sequence[Any]) -> CredentialRecord:
    agency_id, scope_id, signer, issued_at, valid_until = raw
    return CredentialRecord(
        hash32(root), int(agency_id), scope_id, str(signer), int(issued_at), int(valid_until)
    )


def _credential_state(root: str, raw: Sequence[Any]) -> CredentialState:
    verdict, target, reason, since, record = raw
    try:
        decided = Verdict(verdict)
    except ValueError:
        raise ChainError(f"credentialStatus answered an unknown verdict {verdict}") from None
    return CredentialState(decided, target, int(reason), int(since), _record(root, record))
