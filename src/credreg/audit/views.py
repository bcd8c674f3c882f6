"""Comparing the replayed state with what the contract's own views return, record by record.

Every scope, agency, signer key, accreditation, root and status target the replay knows is read back from
the contract at the replay's last block, in JSON-RPC batches, and compared field by field; the root
verdict (`credentialStatus(root, root, [])`) is compared with the one computed from the replayed state.
Per-record reads are built and parsed by hand: a ledger with a million roots makes a million calls, and
web3's contract machinery would cost more than the node.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak
from web3 import Web3

from credreg.audit.findings import Finding
from credreg.audit.source import batch_request
from credreg.audit.state import LedgerState
from credreg.chain.client import rpc_url_of
from credreg.chain.states import Verdict

BATCH = 500
MAX_MISMATCH_FINDINGS = 1_000


class _ViewsUnavailable(Exception):
    """The node or the contract does not answer a view (no such function, or no state at that block)."""


@dataclass
class ViewComparison:
    block: int
    compared: Counter[str] = field(default_factory=Counter)
    mismatched: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    complete: bool = True
    note: str | None = None

    def mismatch(self, kind: str, subject: str, message: str) -> None:
        self.mismatched[kind] += 1
        if len(self.findings) < MAX_MISMATCH_FINDINGS:
            self.findings.append(Finding.make("view", "view-mismatch", message, subject=subject))


def _type_of(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type_of(c) for c in param["components"]) + ")" + kind[5:]
    return kind


class _Caller:
    """Batched `eth_call`s to one contract at one block."""

    def __init__(self, w3: Web3, address: str, abi: Sequence[Mapping[str, Any]], block: int) -> None:
        self.w3 = w3
        self.address = address
        self.block = hex(block)
        self.functions: dict[str, tuple[str, list[str], list[str]]] = {}
        for entry in abi:
            if entry.get("type") == "function":
                inputs = [_type_of(i) for i in entry["inputs"]]
                outputs = [_type_of(o) for o in entry["outputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(inputs)})")[:4].hex()
                self.functions[entry["name"]] = (selector, inputs, outputs)

    def selector(self, name: str) -> str:
        return self.functions[name][0]

    def raw(self, datas: Sequence[str]) -> Iterator[str]:
        """Return data (hex without 0x) of calls with calldata `datas` (hex without 0x), in order."""
        url = rpc_url_of(self.w3)
        for start in range(0, len(datas), BATCH):
            chunk = datas[start : start + BATCH]
            requests = [("eth_call", [{"to": self.address, "data": "0x" + d}, self.block]) for d in chunk]
            replies = batch_request(self.w3, requests, what="eth_call batch")
            if replies is None:
                raise _ViewsUnavailable(f"{url} refused a batch of eth_call")
            for reply in replies:
                if "error" in reply:
                    raise _ViewsUnavailable(str(reply["error"].get("message", reply["error"])))
                yield str(reply["result"])[2:]

    def call(self, name: str, *args: Any) -> tuple[Any, ...]:
        selector, inputs, outputs = self.functions[name]
        data = selector + encode(inputs, list(args)).hex()
        result = next(self.raw([data]))
        return tuple(decode(outputs, bytes.fromhex(result)))

    def many(self, name: str, args: Sequence[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
        selector, inputs, outputs = self.functions[name]
        datas = [selector + encode(inputs, list(a)).hex() for a in args]
        for result in self.raw(datas):
            yield tuple(decode(outputs, bytes.fromhex(result)))


def _words(result: str) -> list[str]:
    return [result[i : i + 64] for i in range(0, len(result), 64)]


def _address(word: str) -> str:
    return "0x" + word[24:]


def _hex(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value).lower()


def compare_views(
    w3: Web3,
    address: str,
    abi: Sequence[Mapping[str, Any]],
    state: LedgerState,
    block: int,
    moment: int,
    progress: Callable[[int, int], None] | None = None,
) -> ViewComparison:
    """Compare `state` (replayed through `block`, whose time is `moment`) with the contract's views there."""
    result = ViewComparison(block=block)
    caller = _Caller(w3, Web3.to_checksum_address(address), abi, block)
    try:
        _compare_governance(caller, state, result)
        _compare_roots(caller, state, result, moment, progress)
        _compare_targets(caller, state, result)
    except _ViewsUnavailable as exc:
        result.complete = False
        result.note = (
            f"the contract at {address} did not answer its views at block {block} ({exc}); "
            f"the comparison stopped there"
        )
        result.findings.append(Finding.make("view", "views-unavailable", result.note, subject=address))
    return result


def _compare_governance(caller: _Caller, state: LedgerState, out: ViewComparison) -> None:
    def same(kind: str, subject: str, chain: Sequence[Any], replayed: Sequence[Any], fields: str) -> None:
        out.compared[kind] += 1
        if tuple(chain) != tuple(replayed):
            diffs = [
                f"{name}: chain {c!r}, replayed {r!r}"
                for name, c, r in zip(fields.split(), chain, replayed, strict=True)
                if c != r
            ]
            out.mismatch(kind, subject, f"{subject}: " + "; ".join(diffs))

    same("governor", "governor", [_hex(caller.call("owner")[0])], [state.governor], "owner")
    if "pendingOwner" in caller.functions:
        same("governor", "pending governor", [_hex(caller.call("pendingOwner")[0])], [state.pending_governor],
             "pendingOwner")  # fmt: skip
    counts = [caller.call(n)[0] for n in ("scopeCount", "agencyCount", "signerCount")]
    same("counts", "counts", counts, [len(state.scope_by_index), state.agency_count, len(state.signer_by_index)],
         "scopeCount agencyCount signerCount")  # fmt: skip

    scope_ids = sorted(state.scopes)
    for scope_id, (view,) in zip(
        scope_ids, caller.many("scope", [[bytes.fromhex(s[2:])] for s in scope_ids]), strict=True
    ):
        s = state.scopes[scope_id]
        same("scopes", f"scope {scope_id}", view, (s.occupation_code, s.level, s.index, s.title),
             "occupationCode level index title")  # fmt: skip
    indexes = sorted(state.scope_by_index)
    for index, (view,) in zip(indexes, caller.many("scopeIdAt", [[i] for i in indexes]), strict=True):
        same("scopes", f"scope index {index}", [_hex(view)], [state.scope_by_index[index]], "scopeId")

    agency_ids = sorted(state.agencies)
    for agency_id, (view,) in zip(agency_ids, caller.many("agency", [[a] for a in agency_ids]), strict=True):
        g = state.agencies[agency_id]
        name, code, admin, st, reason, cutoff = view
        same("agencies", f"agency {agency_id}", (name, code, admin.lower(), st, reason, cutoff),
             (g.name, g.registration_code, g.admin, int(g.state), g.reason, g.cutoff),
             "name registrationCode admin state reason cutoff")  # fmt: skip

    signers = sorted(state.signers)
    checksummed = [Web3.to_checksum_address(s) for s in signers]
    for address, (view,) in zip(
        signers, caller.many("signerRecord", [[a] for a in checksummed]), strict=True
    ):
        k = state.signers[address]
        same("signers", f"signer {address}", view,
             (k.agency_id, k.index, k.valid_from, k.valid_until, k.compromised_since),
             "agencyId index validFrom validUntil compromisedSince")  # fmt: skip
    indexes = sorted(state.signer_by_index)
    for index, (view,) in zip(indexes, caller.many("signerAt", [[i] for i in indexes]), strict=True):
        same("signers", f"signer index {index}", [_hex(view)], [state.signer_by_index[index]], "signer")

    keys = sorted(state.accreditations)
    args = [[a, bytes.fromhex(s[2:])] for a, s in keys]
    for key, (view,) in zip(keys, caller.many("accreditation", args), strict=True):
        c = state.accreditations[key]
        same("accreditations", f"accreditation of agency {key[0]} for scope {key[1]}", view,
             (c.scope_index, c.valid_from, c.valid_until), "scopeIndex validFrom validUntil")  # fmt: skip


def _compare_roots(
    caller: _Caller,
    state: LedgerState,
    out: ViewComparison,
    moment: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    record_sel = caller.selector("record")
    status_sel = caller.selector("credentialStatus")
    roots = list(state.roots)
    tail = "0" * 62 + "60" + "0" * 64  # offset of the empty proof array, then its length 0
    for start in range(0, len(roots), BATCH):
        chunk = roots[start : start + BATCH]
        datas: list[str] = []
        for root in chunk:
            datas.append(record_sel + root[2:])
            datas.append(status_sel + root[2:] + root[2:] + tail)
        replies = list(caller.raw(datas))
        for i, root in enumerate(chunk):
            r = state.roots[root]
            words = _words(replies[2 * i])
            chain = (
                int(words[0], 16),
                "0x" + words[1],
                _address(words[2]),
                int(words[3], 16),
                int(words[4], 16),
            )
            mine = (r.agency_id, r.scope_id, r.signer, r.issued_at, r.valid_until)
            out.compared["roots"] += 1
            if chain != mine:
                out.mismatch(
                    "roots", f"root {root}", f"root {root}: record on chain {chain}, replayed {mine}"
                )
            words = _words(replies[2 * i + 1])
            verdict = (int(words[0], 16), "0x" + words[1], int(words[2], 16), int(words[3], 16))
            expected = state.verdict(root, root, [], moment)
            mine_verdict = (int(expected.verdict), expected.target, expected.reason, expected.since)
            out.compared["verdicts"] += 1
            if verdict != mine_verdict:
                out.mismatch(
                    "verdicts",
                    f"root {root}",
                    f"root {root}: credentialStatus on chain says {_label(verdict[0])} {verdict[1:]}, "
                    f"replayed {expected.verdict.label} {mine_verdict[1:]}",
                )
        if progress is not None:
            progress(min(start + BATCH, len(roots)), len(roots))


def _compare_targets(caller: _Caller, state: LedgerState, out: ViewComparison) -> None:
    selector = caller.selector("statusOf")
    targets = list(state.targets)
    for start in range(0, len(targets), BATCH):
        chunk = targets[start : start + BATCH]
        for target, reply in zip(chunk, caller.raw([selector + t[2:] for t in chunk]), strict=True):
            t = state.targets[target]
            words = _words(reply)
            chain = tuple(int(w, 16) for w in words[:5])
            mine = (int(t.status), t.reason, t.nonce, t.since, t.set_by_agency)
            out.compared["targets"] += 1
            if chain != mine:
                out.mismatch(
                    "targets",
                    f"target {target}",
                    f"target {target}: statusOf on chain (status, reason, nonce, since, setByAgency) = {chain}, "
                    f"replayed {mine}",
                )


def _label(verdict: int) -> str:
    try:
        return Verdict(verdict).label
    except ValueError:
        return f"verdict {verdict}"
