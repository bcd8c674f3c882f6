"""Comparing the replayed state with what the contract's own views return, record by record.

Every scope, agency, signer key, issuer key, accreditation, root and status target the replay knows is read
back from the contract at the replay's last block, in JSON-RPC batches, and compared field by field; each
root's verdict (`credentialStatus(agencyId, root, root, [])`) is compared with the one computed from the
replayed state. Calls are encoded and decoded by the one codec (`credreg.chain.codec`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from credreg.audit.findings import Finding
from credreg.audit.source import batch_request
from credreg.audit.state import LedgerState
from credreg.audit.store import chunks
from credreg.chain.client import rpc_url_of
from credreg.chain.codec import ContractCodec
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


class _Caller:
    """Batched `eth_call`s to one contract at one block."""

    def __init__(self, w3: Web3, address: str, abi: Sequence[Mapping[str, Any]], block: int) -> None:
        self.w3 = w3
        self.address = address
        self.block = hex(block)
        self.codec = ContractCodec([dict(entry) for entry in abi])
        self.functions = self.codec.functions

    def _raw(self, datas: Sequence[str]) -> Iterator[str]:
        """Return data of calls with calldata `datas`, in order."""
        url = rpc_url_of(self.w3)
        for start in range(0, len(datas), BATCH):
            chunk = datas[start : start + BATCH]
            requests = [("eth_call", [{"to": self.address, "data": d}, self.block]) for d in chunk]
            replies = batch_request(self.w3, requests, what="eth_call batch")
            if replies is None:
                raise _ViewsUnavailable(f"{url} refused a batch of eth_call")
            for reply in replies:
                if "error" in reply:
                    raise _ViewsUnavailable(str(reply["error"].get("message", reply["error"])))
                yield str(reply["result"])

    def call(self, name: str, *args: Any) -> Any:
        return next(self.many(name, [args]))

    def many(self, name: str, args: Sequence[Sequence[Any]]) -> Iterator[Any]:
        """The decoded results of `name` called with each argument list in `args`."""
        datas = [self.codec.call_data(name, *a) for a in args]
        for result in self._raw(datas):
            yield self.codec.decode_result(name, result)


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

    same("governor", "governor", [caller.call("owner").lower()], [state.governor.lower()], "owner")
    if "pendingOwner" in caller.functions:
        same("governor", "pending governor", [caller.call("pendingOwner").lower()],
             [state.pending_governor.lower()], "pendingOwner")  # fmt: skip
    counts = [caller.call(n) for n in ("scopeCount", "agencyCount", "signerCount")]
    same("counts", "counts", counts, [len(state.scope_by_index), state.agency_count, len(state.signer_by_index)],
         "scopeCount agencyCount signerCount")  # fmt: skip

    scope_ids = sorted(state.scopes)
    for scope_id, view in zip(scope_ids, caller.many("scope", [[s] for s in scope_ids]), strict=True):
        s = state.scopes[scope_id]
        same("scopes", f"scope {scope_id}", view, (s.occupation_code, s.level, s.index, s.title, s.retired_at),
             "occupationCode level index title retiredAt")  # fmt: skip
    indexes = sorted(state.scope_by_index)
    for index, view in zip(indexes, caller.many("scopeIdAt", [[i] for i in indexes]), strict=True):
        same("scopes", f"scope index {index}", [view], [state.scope_by_index[index]], "scopeId")

    agency_ids = sorted(state.agencies)
    for agency_id, view in zip(agency_ids, caller.many("agency", [[a] for a in agency_ids]), strict=True):
        g = state.agencies[agency_id]
        name, code, admin, st, reason, cutoff, store = view
        same("agencies", f"agency {agency_id}", (name, code, admin.lower(), st, reason, cutoff, store.lower()),
             (g.name, g.registration_code, g.admin.lower(), int(g.state), g.reason, g.cutoff,
              g.document_store.lower()),
             "name registrationCode admin state reason cutoff documentStore")  # fmt: skip

    signers = sorted(state.signers)
    for address, view in zip(signers, caller.many("signerRecord", [[a] for a in signers]), strict=True):
        k = state.signers[address]
        same("signers", f"signer {address}", view,
             (k.agency_id, k.index, k.valid_from, k.valid_until, k.compromised_since),
             "agencyId index validFrom validUntil compromisedSince")  # fmt: skip
    indexes = sorted(state.signer_by_index)
    for index, view in zip(indexes, caller.many("signerAt", [[i] for i in indexes]), strict=True):
        same(
            "signers",
            f"signer index {index}",
            [view.lower()],
            [state.signer_by_index[index].lower()],
            "signer",
        )

    public_keys = sorted(state.issuer_keys)
    for public_key, view in zip(
        public_keys, caller.many("issuerKey", [[k] for k in public_keys]), strict=True
    ):
        i = state.issuer_keys[public_key]
        same("issuer keys", f"issuer key {public_key}", view,
             (i.agency_id, i.valid_from, i.valid_until, i.compromised_since),
             "agencyId validFrom validUntil compromisedSince")  # fmt: skip

    keys = sorted(state.accreditations)
    args = [[a, s] for a, s in keys]
    for key, view in zip(keys, caller.many("accreditation", args), strict=True):
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
    total, done = len(state.roots), 0
    # A bounded number of records at a time: on a large ledger they are read from the record store.
    for chunk in chunks(state.roots.items(), BATCH):
        records = caller.many("record", [[a, root] for (a, root), _ in chunk])
        verdicts = caller.many("credentialStatus", [[a, root, root, []] for (a, root), _ in chunk])
        for ((agency_id, root), r), record, status in zip(chunk, records, verdicts, strict=True):
            subject = f"root {root} of agency {agency_id}"
            chain = (record[0], record[1], record[2].lower(), record[3], record[4])
            mine = (agency_id, r.scope_id, r.signer.lower(), r.issued_at, r.valid_until)
            out.compared["roots"] += 1
            if chain != mine:
                out.mismatch("roots", subject, f"{subject}: record on chain {chain}, replayed {mine}")
            verdict = (status[0], status[1], status[2], status[3])
            expected = state.verdict_of_record(agency_id, [root], r, moment)
            mine_verdict = (int(expected.verdict), expected.target, expected.reason, expected.since)
            out.compared["verdicts"] += 1
            if verdict != mine_verdict:
                out.mismatch(
                    "verdicts",
                    subject,
                    f"{subject}: credentialStatus on chain says {_label(verdict[0])} {verdict[1:]}, "
                    f"replayed {expected.verdict.label} {mine_verdict[1:]}",
                )
        done += len(chunk)
        if progress is not None:
            progress(done, total)


def _compare_targets(caller: _Caller, state: LedgerState, out: ViewComparison) -> None:
    for chunk in chunks(state.targets.items(), BATCH):
        for ((agency_id, target), t), view in zip(
            chunk, caller.many("statusOf", [list(k) for k, _ in chunk]), strict=True
        ):
            chain = tuple(view)
            mine = (int(t.status), t.reason, t.nonce, t.since, t.by_governor)
            out.compared["targets"] += 1
            if chain != mine:
                out.mismatch(
                    "targets",
                    f"target {target} of agency {agency_id}",
                    f"target {target} of agency {agency_id}: statusOf on chain (status, reason, nonce, since, "
                    f"byGovernor) = {chain}, replayed {mine}",
                )


def _label(verdict: int) -> str:
    try:
        return Verdict(verdict).label
    except ValueError:
        return f"verdict {verdict}"
