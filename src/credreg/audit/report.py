"""The audit report: one library call that the CLI, the HTTP service and scripts share.

    report = build_report(registry)                  # replay to the head, compare, check provenance
    report = build_report(registry, at_time=ts)      # the ledger as it stood at a moment
    answer = audit_credential(registry, leaf, root=root, proof=proof, at_time=ts)

Everything in `AuditReport` except `run` is deterministic: two auditors replaying the same deployment to the
same block get the same report, and the same `digest.digest`.

The report's memory does not grow with the ledger: its counts are taken by streaming the records from the
replay's store, findings are capped, and every root and target is listed only when asked, either in the
report (`include_records`, for a small ledger) or streamed into its JSON (`write_report_json`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, Field

from credreg.audit import render
from credreg.audit.digest import SCHEME
from credreg.audit.findings import Finding
from credreg.audit.invariants import iso
from credreg.audit.provenance import ProvenanceResult, check_provenance
from credreg.audit.replay import EventHook, ProgressHook, Replayer
from credreg.audit.source import block_at_time, block_time, head_block, time_of
from credreg.audit.state import (
    DAY,
    LedgerState,
    VerdictResult,
    combine,
    day_of,
    in_window,
)
from credreg.audit.store import RootEntry
from credreg.audit.views import compare_views
from credreg.chain.codec import LedgerEvent, checksum
from credreg.chain.states import AgencyState, Verdict
from credreg.errors import ConfigError
from credreg.registry import Registry
from credreg.summaries import KnownBatch

REPORT_FORMAT = "credreg-audit-report/1"
MAX_TIMELINE = 5_000
MAX_CREDENTIAL_HISTORY = 1_000

ViewsProgress = Callable[[int, int], None]


class DeploymentInfo(BaseModel):
    chain_id: int
    address: str
    deployment_block: int
    contract_version: str


class DigestInfo(BaseModel):
    """Compare `digest` with another auditor's: equal means the same events and the same rebuilt state."""

    scheme: str = SCHEME
    digest: str
    events_digest: str
    state_digest: str
    event_count: int
    through_block: int


class HistoryItem(BaseModel):
    block: int
    time: int
    event: str
    transaction_hash: str
    log_index: int
    text: str
    args: dict[str, Any]
    # The same sentence in Chinese, for the command line; the report's JSON keeps the English alone.
    text_zh: str = Field("", exclude=True)


class SignerSummary(BaseModel):
    address: str
    index: int
    valid_from: int
    valid_until: int
    compromised_since: int
    valid_at_report_time: bool


class AccreditationSummary(BaseModel):
    scope_id: str
    occupation_code: str
    level: int
    valid_from: int
    valid_until: int
    accredited_at_report_time: bool


class AgencyAudit(BaseModel):
    """One agency as the replayed ledger shows it (`verify.AgencySummary` is the agency a verdict names)."""

    agency_id: int
    name: str
    registration_code: str
    admin: str
    state: str
    reason: int
    cutoff: int
    roots_issued: int
    roots_by_scope: dict[str, int]
    root_verdicts: dict[str, int]
    status_changes: dict[str, int] = Field(
        description="revoke / suspend / reinstate made by the agency, and by the governor on its roots"
    )
    signers: list[SignerSummary]
    accreditations: list[AccreditationSummary]
    history: list[HistoryItem]
    batches_with_known_certificates: int = Field(
        0, description="Its batches whose certificates are known (from batch summaries given to the audit)."
    )
    certificates_known: int = Field(0, description="Certificates in those batches.")


class ScopeAudit(BaseModel):
    """One scope as the replayed ledger shows it (`verify.ScopeSummary` is the scope a verdict names)."""

    scope_id: str
    index: int
    occupation_code: str
    level: int
    title: str
    roots_issued: int
    agencies_accredited: list[int] = Field(description="accredited at the report's time")


class TimelineItem(BaseModel):
    kind: Literal["governance", "activity"]
    time: int
    block: int | None = None
    event: str | None = None
    transaction_hash: str | None = None
    agency_id: int | None = None
    text: str


class ViewSummary(BaseModel):
    block: int
    compared: dict[str, int]
    mismatched: dict[str, int]
    complete: bool
    note: str | None = None


class Totals(BaseModel):
    events: int
    events_by_name: dict[str, int]
    scopes: int
    agencies: int
    signers: int
    roots: int
    targets: int
    targets_by_status: dict[str, int]
    root_verdicts: dict[str, int]
    batches_with_known_certificates: int = Field(
        0, description="Batches (roots) whose certificates are known, from the batch summaries given."
    )
    certificates_known: int = Field(0, description="Certificates in those batches.")


class RootItem(BaseModel):
    root: str
    agency_id: int
    scope_id: str
    signer: str
    issued_at: int
    valid_until: int
    block: int
    verdict: str


class TargetItem(BaseModel):
    agency_id: int
    target: str
    root: str
    status: str
    reason: int
    nonce: int
    since: int
    by_governor: bool
    changes: int


class RunInfo(BaseModel):
    """How this run went; the only part of the report that differs between two runs."""

    generated_at: datetime
    seconds: float = Field(description="The whole audit: replay, view comparison and code check.")
    events_replayed: int
    replay_seconds: float = Field(0.0, description="The replay alone; events_per_second is per this time.")
    events_per_second: float
    windows: int
    resumed_from_block: int | None
    notes: list[str]


class AuditReport(BaseModel):
    format: str = REPORT_FORMAT
    deployment: DeploymentInfo
    through_block: int
    through_time: int
    report_time: int = Field(description="the moment verdicts are evaluated at: --at, else the block's time")
    clean: bool = Field(description="no finding of any kind")
    findings_total: int
    findings_by_code: dict[str, int]
    findings: list[Finding]
    provenance: ProvenanceResult | None
    views: ViewSummary | None
    digest: DigestInfo
    governor: str
    pending_governor: str | None
    totals: Totals
    agencies: list[AgencyAudit]
    scopes: list[ScopeAudit]
    timeline: list[TimelineItem]
    timeline_total: int
    roots: list[RootItem] | None = None
    targets: list[TargetItem] | None = None
    run: RunInfo


# --- choosing the block ----------------------------------------------------------------------------------


def resolve_block(
    registry: Registry, *, at_block: int | None, at_time: int | None, confirmations: int = 0
) -> int:
    """The last block to replay: `at_block`, the last block at or before `at_time`, or the head."""
    if at_block is not None and at_time is not None:
        raise ConfigError("give a block or a time to audit at, not both")
    head = max(0, head_block(registry.w3) - confirmations)
    first = registry.manifest.deployment_block
    if at_block is not None:
        if at_block < first:
            raise ConfigError(f"block {at_block} is before the registry's deployment (block {first})")
        if at_block > head:
            raise ConfigError(f"block {at_block} is not on the chain yet (its head is {head})")
        return at_block
    if at_time is not None:
        found = block_at_time(registry.w3, at_time, first, head)
        if found is None:
            raise ConfigError(
                f"{iso(at_time)} is before the registry's deployment (block {first}, "
                f"{iso(block_time(registry.w3, first))})"
            )
        return found
    return head


def prepare_replayer(
    registry: Registry,
    *,
    checkpoint: Path | None,
    resume_from: Path | None,
    resume: bool,
    to_block: int,
    notes: list[str],
    window_blocks: int | None,
    memory_records: int | None = None,
    records_dir: Path | None = None,
) -> Replayer:
    """A replayer ready to run to `to_block`: fresh, or continuing a checkpoint (see `build_report`)."""
    kwargs: dict[str, Any] = {"checkpoint": checkpoint, "records_dir": records_dir}
    if window_blocks is not None:
        kwargs["window_blocks"] = window_blocks
    if memory_records is not None:
        kwargs["memory_records"] = memory_records
    replayer = Replayer(registry, **kwargs)
    if resume_from is not None:
        replayer.resume(resume_from)
        if replayer.through_block > to_block:
            raise ConfigError(
                f"the checkpoint {resume_from} is already past block {to_block} (it ends at block "
                f"{replayer.through_block}); replay from the deployment block instead"
            )
    elif resume and checkpoint is not None and checkpoint.exists():
        try:
            replayer.resume(checkpoint)
        except ConfigError as exc:
            notes.append(f"checkpoint not used: {exc}")
            replayer = Replayer(registry, **kwargs)
        else:
            if replayer.through_block > to_block:
                # Leave the later checkpoint in place for the next replay to the head.
                notes.append(
                    f"checkpoint at block {replayer.through_block} is past block {to_block}; not used, kept"
                )
                replayer = Replayer(registry, **{**kwargs, "checkpoint": None})
    if replayer.resumed_from is not None:
        notes.append(f"resumed from the checkpoint at block {replayer.resumed_from}")
    return replayer


# --- the report --------------------------------------------------------------------------------------------


def build_report(
    registry: Registry,
    *,
    at_block: int | None = None,
    at_time: int | None = None,
    confirmations: int = 0,
    checkpoint: Path | None = None,
    resume_from: Path | None = None,
    resume: bool = False,
    compare: bool = True,
    provenance: bool = True,
    recompile: bool = True,
    include_records: bool = False,
    on_event: EventHook | None = None,
    progress: ProgressHook | None = None,
    views_progress: ViewsProgress | None = None,
    window_blocks: int | None = None,
    batches: Mapping[tuple[int, str], KnownBatch] | None = None,
    memory_records: int | None = None,
    records_dir: Path | None = None,
) -> AuditReport:
    """Replay `registry`'s ledger, check every rule, compare with the contract's views and its source.

    `at_block` / `at_time` stop the replay there (the state as it stood then); by default it runs to the
    head (minus `confirmations`). `checkpoint` is where progress is saved; `resume_from` (must be usable) or
    `resume` (use `checkpoint` if it fits) continue an earlier replay. `include_records` lists every root
    and status target in the report (large ledgers: prefer the CSV export or `write_report_json`).
    `memory_records` and `records_dir`: see `Replayer`.
    """
    notes: list[str] = []
    started = time.perf_counter()
    to_block = resolve_block(registry, at_block=at_block, at_time=at_time, confirmations=confirmations)
    replayer = prepare_replayer(
        registry,
        checkpoint=checkpoint,
        resume_from=resume_from,
        resume=resume,
        to_block=to_block,
        notes=notes,
        window_blocks=window_blocks,
        memory_records=memory_records,
        records_dir=records_dir,
    )
    replayer.run(to_block, on_event=on_event, progress=progress)
    return report_from(
        registry,
        replayer,
        at_time=at_time,
        compare=compare,
        provenance=provenance,
        recompile=recompile,
        include_records=include_records,
        views_progress=views_progress,
        notes=notes,
        started=started,
        batches=batches,
    )


def report_from(
    registry: Registry,
    replayer: Replayer,
    *,
    at_time: int | None = None,
    compare: bool = True,
    provenance: bool = True,
    recompile: bool = True,
    include_records: bool = False,
    views_progress: ViewsProgress | None = None,
    notes: Sequence[str] = (),
    started: float | None = None,
    batches: Mapping[tuple[int, str], KnownBatch] | None = None,
) -> AuditReport:
    """The report of a replay that already ran; `batches` (from batch summaries) count certificates."""
    started = time.perf_counter() if started is None else started
    notes = list(notes)
    state = replayer.state
    through = replayer.through_block
    through_time = block_time(registry.w3, through)
    moment = at_time if at_time is not None else through_time
    findings: list[Finding] = list(state.findings)
    counts: Counter[str] = Counter(state.finding_counts)

    views: ViewSummary | None = None
    if compare:
        comparison = compare_views(
            registry.w3, registry.address, registry.abi, state, through, through_time, views_progress
        )
        findings.extend(comparison.findings)
        if comparison.mismatched:
            counts["view-mismatch"] += sum(comparison.mismatched.values())
        if not comparison.complete:
            counts["views-unavailable"] += 1
        views = ViewSummary(
            block=through,
            compared=dict(sorted(comparison.compared.items())),
            mismatched=dict(sorted(comparison.mismatched.items())),
            complete=comparison.complete,
            note=comparison.note,
        )
    proof: ProvenanceResult | None = None
    if provenance:
        proof = check_provenance(registry.w3, registry.address, through, recompile=recompile)
        if not proof.ok:
            findings.append(
                Finding.make(
                    "provenance",
                    "bytecode-mismatch",
                    f"the code at {registry.address} is not the registry built from source: {proof.verdict}, "
                    f"{proof.detail} ({proof.reference_detail})",
                    subject=registry.address,
                )
            )
            counts["bytecode-mismatch"] += 1

    digest = replayer.digest()
    verdicts = verdict_counts(state, moment)
    elapsed = time.perf_counter() - started
    known = {key: len(b.leaves) for key, b in (batches or {}).items() if key in state.roots}
    replay_seconds = round(replayer.seconds, 3)
    timeline = build_timeline(state)
    total = sum(counts.values())
    return AuditReport(
        deployment=DeploymentInfo(
            chain_id=registry.manifest.chain_id,
            address=registry.address,
            deployment_block=registry.manifest.deployment_block,
            contract_version=registry.manifest.contract_version,
        ),
        through_block=through,
        through_time=through_time,
        report_time=moment,
        clean=total == 0,
        findings_total=total,
        findings_by_code=dict(sorted(counts.items())),
        findings=findings,
        provenance=proof,
        views=views,
        digest=DigestInfo(
            digest=digest.digest,
            events_digest=digest.events_digest,
            state_digest=digest.state_digest,
            event_count=digest.event_count,
            through_block=digest.through_block,
        ),
        governor=checksum(state.governor),
        pending_governor=checksum(state.pending_governor) if int(state.pending_governor, 16) else None,
        totals=Totals(
            events=replayer.chain.count,
            events_by_name=dict(sorted(state.events_by_name.items())),
            scopes=len(state.scopes),
            agencies=len(state.agencies),
            signers=len(state.signers),
            roots=len(state.roots),
            targets=len(state.targets),
            targets_by_status=dict(
                sorted(Counter(t.status.name.lower() for t in state.targets.values()).items())
            ),
            root_verdicts=_by_label(verdicts),
            batches_with_known_certificates=len(known),
            certificates_known=sum(known.values()),
        ),
        agencies=[
            _agency_summary(state, agency_id, verdicts, moment, known) for agency_id in sorted(state.agencies)
        ],
        scopes=[
            _scope_summary(state, scope_id, moment)
            for scope_id in sorted(state.scopes, key=lambda s: state.scopes[s].index)
        ],
        timeline=timeline[-MAX_TIMELINE:],
        timeline_total=len(timeline),
        roots=list(iter_root_items(state, moment)) if include_records else None,
        targets=list(iter_target_items(state)) if include_records else None,
        run=RunInfo(
            generated_at=datetime.now(UTC),
            seconds=round(elapsed, 3),
            events_replayed=replayer.events_this_run,
            replay_seconds=replay_seconds,
            # Per the replay time the report gives, so that events / seconds is the rate printed beside it.
            events_per_second=round(replayer.events_this_run / replay_seconds, 1) if replay_seconds else 0.0,
            windows=replayer.windows,
            resumed_from_block=replayer.resumed_from,
            notes=notes,
        ),
    )


# --- every record, streamed from the store --------------------------------------------------------------------


def _root_verdicts(state: LedgerState, moment: int) -> Iterator[tuple[str, RootEntry, Verdict]]:
    """Every root with its verdict at `moment`, in key order, read from the store a bounded number at a time."""
    for (agency_id, root), record in state.roots.items():
        yield root, record, state.verdict_of_record(agency_id, [root], record, moment).verdict


def verdict_counts(state: LedgerState, moment: int) -> Counter[tuple[int, str]]:
    """Roots per (agency id, verdict label) at `moment`: the report's counts, whatever the ledger's size."""
    return Counter((record.agency_id, verdict.label) for _, record, verdict in _root_verdicts(state, moment))


def iter_root_items(state: LedgerState, moment: int) -> Iterator[RootItem]:
    """Every root of the report (`--records`), streamed in key order."""
    for root, record, verdict in _root_verdicts(state, moment):
        yield _root_item(root, record, verdict)


def iter_target_items(state: LedgerState) -> Iterator[TargetItem]:
    """Every status target of the report (`--records`), streamed in key order."""
    for (agency_id, target), e in state.targets.items():
        yield TargetItem(
            agency_id=agency_id,
            target=target,
            root=e.root,
            status=e.status.name.lower(),
            reason=e.reason,
            nonce=e.nonce,
            since=e.since,
            by_governor=e.by_governor,
            changes=e.changes,
        )


def write_report_json(report: AuditReport, out: TextIO, records: LedgerState | None = None) -> None:
    """The report as indented JSON on `out`; with `records` (the replayed state) every root and target is
    streamed into it from the store, one line each, instead of being held in the report."""
    if records is None:
        out.write(report.model_dump_json(indent=2) + "\n")
        return
    fields = report.model_dump(mode="json", exclude={"roots", "targets"})
    streamed: dict[str, Callable[[], Iterator[BaseModel]]] = {
        "roots": lambda: iter_root_items(records, report.report_time),
        "targets": lambda: iter_target_items(records),
    }
    out.write("{")
    for n, name in enumerate(AuditReport.model_fields):
        out.write(f"{',' if n else ''}\n  {json.dumps(name)}: ")
        if name in streamed:
            out.write("[")
            for i, item in enumerate(streamed[name]()):
                out.write(f"{',' if i else ''}\n    {item.model_dump_json()}")
            out.write("\n  ]")
        else:
            text = json.dumps(fields[name], indent=2, ensure_ascii=False)
            out.write(text.replace("\n", "\n  "))
    out.write("\n}\n")


def _by_label(verdicts: Counter[tuple[int, str]]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for (_, label), n in verdicts.items():
        totals[label] += n
    return dict(sorted(totals.items()))


def _root_item(root: str, r: RootEntry, verdict: Verdict) -> RootItem:
    return RootItem(
        root=root,
        agency_id=r.agency_id,
        scope_id=r.scope_id,
        signer=checksum(r.signer),
        issued_at=r.issued_at,
        valid_until=r.valid_until,
        block=r.block,
        verdict=verdict.label,
    )


def _agency_summary(
    state: LedgerState,
    agency_id: int,
    verdicts: Counter[tuple[int, str]],
    moment: int,
    known: Mapping[tuple[int, str], int],
) -> AgencyAudit:
    own_known = [n for (holder, _root), n in known.items() if holder == agency_id]
    g = state.agencies[agency_id]
    by_scope = {scope: n for (a, scope), n in sorted(state.issued.items()) if a == agency_id}
    changes: Counter[str] = Counter()
    for (a, action, by_governor), n in state.actions.items():
        if a == agency_id:
            label = {1: "revoke", 2: "suspend", 3: "reinstate"}.get(action, str(action))
            changes[f"{label} by {'governor' if by_governor else 'agency'}"] += n
    own_verdicts = {label: n for (holder, label), n in verdicts.items() if holder == agency_id}
    return AgencyAudit(
        agency_id=agency_id,
        name=g.name,
        registration_code=g.registration_code,
        admin=checksum(g.admin),
        state=g.state.name.lower(),
        reason=g.reason,
        cutoff=g.cutoff,
        roots_issued=sum(by_scope.values()),
        roots_by_scope=by_scope,
        root_verdicts=dict(sorted(own_verdicts.items())),
        batches_with_known_certificates=len(own_known),
        certificates_known=sum(own_known),
        status_changes=dict(sorted(changes.items())),
        signers=[
            SignerSummary(
                address=checksum(k.key),
                index=k.index,
                valid_from=k.valid_from,
                valid_until=k.valid_until,
                compromised_since=k.compromised_since,
                valid_at_report_time=k.valid_at(moment) and k.compromised_since == 0,
            )
            for k in sorted(state.signers.values(), key=lambda k: k.index)
            if k.agency_id == agency_id
        ],
        accreditations=[
            AccreditationSummary(
                scope_id=c.scope_id,
                occupation_code=state.scopes[c.scope_id].occupation_code
                if c.scope_id in state.scopes
                else "",
                level=state.scopes[c.scope_id].level if c.scope_id in state.scopes else 0,
                valid_from=c.valid_from,
                valid_until=c.valid_until,
                accredited_at_report_time=in_window(c.valid_from, c.valid_until, moment),
            )
            for (a, _), c in sorted(state.accreditations.items())
            if a == agency_id
        ],
        history=[history_item(state, h) for h in g.history],
    )


def _scope_summary(state: LedgerState, scope_id: str, moment: int) -> ScopeAudit:
    s = state.scopes[scope_id]
    return ScopeAudit(
        scope_id=scope_id,
        index=s.index,
        occupation_code=s.occupation_code,
        level=s.level,
        title=s.title,
        roots_issued=sum(n for (_, scope), n in state.issued.items() if scope == scope_id),
        agencies_accredited=sorted(
            a
            for (a, scope), c in state.accreditations.items()
            if scope == scope_id
            and in_window(c.valid_from, c.valid_until, moment)
            and a in state.agencies
            and state.agencies[a].state is AgencyState.ACTIVE
        ),
    )


# --- readable history --------------------------------------------------------------------------------------


def describe(state: LedgerState, entry: LedgerEvent) -> str:
    """One sentence an auditor reads for a governance event (words: `credreg.audit.render`)."""
    a = entry.args
    name = entry.name
    return render.describe(state.scopes, name, a)


def history_item(state: LedgerState, entry: LedgerEvent) -> HistoryItem:
    return HistoryItem(
        block=entry.block_number,
        time=time_of(entry),
        event=entry.name,
        transaction_hash=entry.transaction_hash,
        log_index=entry.log_index,
        text=describe(state, entry),
        args=entry.args,
        text_zh=render.describe(state.scopes, entry.name, entry.args, "zh"),
    )


def build_timeline(state: LedgerState) -> list[TimelineItem]:
    """Governance events one by one, credential activity per agency and day, oldest first."""
    items = [
        TimelineItem(
            kind="governance",
            time=time_of(h),
            block=h.block_number,
            event=h.name,
            transaction_hash=h.transaction_hash,
            agency_id=h.args.get("agencyId"),
            text=describe(state, h),
        )
        for h in state.iter_timeline()
    ]
    per_day: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for (day_number, agency_id, what), n in sorted(state.daily.items()):
        per_day.setdefault((day_number, agency_id), []).append((what, n))
    for (day_number, agency_id), counts in per_day.items():
        moment, day = day_number * DAY, day_of(day_number)
        items.append(
            TimelineItem(
                kind="activity",
                time=moment,
                agency_id=agency_id,
                text=render.activity_text(day, agency_id, counts),
            )
        )
    # Within a day, the activity summary sorts before that day's governance events.
    items.sort(key=lambda i: (i.time, 0 if i.kind == "activity" else 1, i.block or 0))
    return items


# --- one credential ----------------------------------------------------------------------------------------


class CredentialAnswer(BaseModel):
    verdict: str
    valid: bool
    target: str
    reason: int
    since: int
    explanation: str
    # In Chinese, for the command line; the report's JSON keeps the English alone.
    explanation_zh: str = Field("", exclude=True)


class CredentialAudit(BaseModel):
    """Was this credential valid at a moment, judged from the replayed ledger alone?"""

    hash: str
    root: str | None
    proof: list[str]
    at_time: int
    at_block: int
    then: CredentialAnswer = Field(description="on the ledger as it stood at `at_time`")
    now: CredentialAnswer = Field(description="at the head, evaluated now")
    retroactive: str | None = Field(
        None, description="set when later events void the credential back to its issuance"
    )
    retroactive_zh: str | None = Field(None, exclude=True)
    record: RootItem | None
    history: list[HistoryItem]
    through_block: int
    digest: DigestInfo


def _answer(result: VerdictResult, moment: int) -> CredentialAnswer:
    v = result.verdict

    def text(lang: render.Lang) -> str:
        return render.answer_text(
            v, moment, target=result.target, reason=result.reason, since=result.since, lang=lang
        )

    return CredentialAnswer(
        verdict=v.label, valid=v is Verdict.VALID, target=result.target, reason=result.reason,
        since=result.since, explanation=text("en"), explanation_zh=text("zh"),
    )  # fmt: skip


def audit_credential(
    registry: Registry,
    leaf: str,
    *,
    at_time: int,
    root: str | None = None,
    proof: Sequence[str] = (),
    agency_id: int | None = None,
    resume_from: Path | None = None,
    progress: ProgressHook | None = None,
    confirmations: int = 0,
    memory_records: int | None = None,
    records_dir: Path | None = None,
) -> CredentialAudit:
    """Replay to `at_time` and judge the credential (`leaf` under `root` by `proof`, in `agency_id`'s
    namespace), then replay to the head. Without `agency_id`, the one agency whose namespace holds the hash
    is taken; a hash held by several agencies needs `agency_id` (a document names it)."""
    leaf = leaf.lower()
    root = root.lower() if root else None
    proof = [p.lower() for p in proof]
    at_block = resolve_block(registry, at_block=None, at_time=at_time, confirmations=confirmations)
    head = resolve_block(registry, at_block=None, at_time=None, confirmations=confirmations)
    replayer = prepare_replayer(
        registry, checkpoint=None, resume_from=resume_from, resume=False, to_block=at_block, notes=[],
        window_blocks=None, memory_records=memory_records, records_dir=records_dir,
    )  # fmt: skip
    watched = {leaf} | ({root} if root else set())
    node = leaf
    for sibling in proof:
        node = combine(node, sibling)
        watched.add(node)
    history: list[HistoryItem] = []

    def watch(event: LedgerEvent) -> None:
        # The issuance of its root and changes to the hashes on its path in its agency's namespace; not
        # changes to other leaves, nor another agency's records of the same hashes.
        subject = event.args.get("target", event.args.get("root"))
        holder = event.args.get("agencyId")
        if agency_id is not None and holder != agency_id:
            return
        if subject in watched and len(history) < MAX_CREDENTIAL_HISTORY:
            history.append(
                HistoryItem(
                    block=event.block_number, time=time_of(event), event=event.name,
                    transaction_hash=event.transaction_hash, log_index=event.log_index,
                    text=render.credential_text(event.name, event.args), args=event.args,
                    text_zh=render.credential_text(event.name, event.args, "zh"),
                )
            )  # fmt: skip

    if agency_id is None:
        # Which agency's hash this is can only be told from the ledger: replay to the head once to find out.
        replayer.run(head, progress=progress)
        agency_id = _holder_of(replayer.state, leaf, root)
        replayer = prepare_replayer(
            registry, checkpoint=None, resume_from=resume_from, resume=False, to_block=at_block, notes=[],
            window_blocks=None,
        )  # fmt: skip
    replayer.run(at_block, on_event=watch, progress=progress)
    state = replayer.state
    if root is None:
        if (agency_id, leaf) in state.roots:
            root = leaf
        elif (agency_id, leaf) in state.targets:
            root = state.targets[(agency_id, leaf)].root
            watched.add(root)
    then = _judge(state, agency_id, leaf, root, proof, at_time)
    replayer.run(head, on_event=watch, progress=progress)
    state = replayer.state
    if root is None and (agency_id, leaf) in state.roots:
        root = leaf
    now_time = max(int(time.time()), block_time(registry.w3, head))
    now = _judge(state, agency_id, leaf, root, proof, now_time)
    retro: str | None = None
    retro_zh: str | None = None
    record = state.roots.get((agency_id, root)) if root else None
    if record is not None and then.verdict is Verdict.VALID:
        invalid = state.invalidation(record)
        if invalid is not None:
            retro = render.retroactive_text(at_time, invalid[0], invalid[2], record.issued_at)
            retro_zh = render.retroactive_text(at_time, invalid[0], invalid[2], record.issued_at, "zh")
    digest = replayer.digest()
    return CredentialAudit(
        hash=leaf,
        root=root,
        proof=proof,
        at_time=at_time,
        at_block=at_block,
        then=_answer(then, at_time),
        now=_answer(now, now_time),
        retroactive=retro,
        retroactive_zh=retro_zh,
        record=_root_item(root, record, now.verdict) if root and record else None,
        history=history,
        through_block=replayer.through_block,
        digest=DigestInfo(
            digest=digest.digest, events_digest=digest.events_digest, state_digest=digest.state_digest,
            event_count=digest.event_count, through_block=digest.through_block,
        ),
    )  # fmt: skip


def _holder_of(state: LedgerState, leaf: str, root: str | None) -> int:
    """The one agency whose namespace holds `root` (or `leaf`), for a question that names no agency."""
    wanted = root or leaf
    holders = sorted(
        {a for a, h in state.roots if h == wanted}
        | ({a for a, h in state.targets if h == wanted} if not root else set())
    )
    if len(holders) > 1:
        raise ConfigError(
            f"{wanted} is recorded by agencies {', '.join(map(str, holders))}, each in its own namespace; "
            f"say which with --agency N (the certificate names its agency), or pass the certificate file"
        )
    return holders[0] if holders else 0


def _judge(
    state: LedgerState, agency_id: int, leaf: str, root: str | None, proof: Sequence[str], moment: int
) -> VerdictResult:
    if root is None:
        return VerdictResult(Verdict.NOT_ISSUED, leaf, 0, 0, None)
    if not proof and leaf != root:
        # Known only as a status target under `root`: judge the leaf and the root (nodes between are unknown).
        return state.verdict_of_path(agency_id, [leaf, root], moment)
    return state.verdict(agency_id, root, leaf, proof, moment)
