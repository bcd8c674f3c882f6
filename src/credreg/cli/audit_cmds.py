"""Auditor commands: replay the ledger from genesis, judge one credential at a date, check the contract's code."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credreg.cli.common import JsonOption, check_time, console, err_console, print_json, state, when
from credreg.errors import ConfigError, DocumentError, MalformedDocument
from credreg.labels import ACTIONS, AGENCY_STATES, EVENTS, LEDGER_VERDICTS, Words

if TYPE_CHECKING:
    from credreg.audit.replay import ProgressHook
    from credreg.audit.report import AuditReport, CredentialAudit, RunInfo
    from credreg.documents.wrap import WrappedDocument


audit_app = typer.Typer(
    help="Auditor: replay the ledger from its deployment, check every rule, compare and export.\n\n"
    "Example: credreg audit replay --json report.json"
)

MAX_FINDINGS_SHOWN = 50

AtBlockOption = Annotated[
    int | None, typer.Option("--at-block", min=0, help="Replay up to and including this block.")
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help="Replay the ledger as it stood at this moment: an ISO date or date-time, or now."
    ),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--from-checkpoint",
        help="Resume from this checkpoint file (and keep saving to it).",
        exists=True,
        dir_okay=False,
    ),
]

RecordsInMemoryOption = Annotated[
    int | None,
    typer.Option(
        "--records-in-memory",
        metavar="N",
        help="Roots and status targets kept in memory before they move to a SQLite file "
        "(default 100,000, about 50 MB; 0: on disk from the start).",
    ),
]
WorkDirOption = Annotated[
    Path | None,
    typer.Option(
        "--work-dir",
        metavar="DIR",
        help="Where the records' SQLite file goes once they move to disk (default: beside the checkpoint "
        "under the data directory; a file about 70 bytes a record).",
    ),
]


def _records_options(records_in_memory: int | None, work_dir: Path | None) -> None:
    """Refuse a bad records threshold or work folder before the replay starts (the folder is created)."""
    if records_in_memory is not None and records_in_memory < 0:
        raise typer.BadParameter(
            f"须为 0 或正整数，而不是 {records_in_memory} / must be 0 or more, not {records_in_memory}",
            param_hint="--records-in-memory",
        )
    if work_dir is None:
        return
    if work_dir.exists() and not work_dir.is_dir():
        raise typer.BadParameter(
            f"{work_dir} 不是文件夹 / {work_dir} is not a folder", param_hint="--work-dir"
        )
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise typer.BadParameter(
            f"无法创建 {work_dir}：{exc.strerror} / {work_dir} cannot be created: {exc.strerror}",
            param_hint="--work-dir",
        ) from None
    if not os.access(work_dir, os.W_OK | os.X_OK):
        raise typer.BadParameter(f"{work_dir} 不可写 / {work_dir} is not writable", param_hint="--work-dir")


@contextlib.contextmanager
def _progress(label: str) -> Iterator[tuple[ProgressHook | None, Callable[[int, int], None] | None]]:
    """Rich progress bars on stderr when it is a terminal; nothing otherwise (logs stay clean)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if not err_console.is_terminal:
        yield None, None
        return
    with Progress(
        TextColumn("{task.description:<8}"), BarColumn(), TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(), console=err_console, transient=True,
    ) as bar:  # fmt: skip
        replay = bar.add_task(label, total=None, detail="")
        views = bar.add_task("views", total=None, detail="", visible=False)

        def on_replay(done: int, total: int, events: int) -> None:
            bar.update(replay, completed=done, total=total, detail=f"{events:,} events")

        def on_views(done: int, total: int) -> None:
            bar.update(views, completed=done, total=total, visible=True, detail=f"{done:,}/{total:,} roots")

        yield on_replay, on_views


def _at_time(ctx: typer.Context, at: str | None) -> int | None:
    if at is None:
        return None
    return when(ctx, at, "--at")


@audit_app.command("replay")
def replay(
    ctx: typer.Context,
    at_block: AtBlockOption = None,
    at: AtOption = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the full JSON report here ('-' for stdout).")
    ] = None,
    csv_dir: Annotated[
        Path | None,
        typer.Option("--csv-dir", help="Write events.csv and credentials.csv here (UTF-8 with BOM)."),
    ] = None,
    from_checkpoint: CheckpointOption = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Resume from this deployment's checkpoint under the data directory."),
    ] = False,
    views: Annotated[bool, typer.Option(help="Compare every record with the contract's views.")] = True,
    provenance: Annotated[bool, typer.Option(help="Compare the deployed code with contracts/.")] = True,
    recompile: Annotated[
        bool, typer.Option(help="Recompile contracts/ (else compare with the committed artifact).")
    ] = True,
    records: Annotated[
        bool,
        typer.Option(
            "--records", help="List every root and target in the JSON (streamed from the replay's store)."
        ),
    ] = False,
    batches_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--batches",
            metavar="DIR",
            help="Folder of agencies' batch-….json summaries with their documents: count certificates and "
            "name them in credentials.csv (repeat for more).",
        ),
    ] = None,
    records_in_memory: RecordsInMemoryOption = None,
    work_dir: WorkDirOption = None,
) -> None:
    """Replay every event since the deployment, check every rule, compare with the contract; findings first.

    Exits 1 when there is any finding. Progress is saved to a checkpoint under the data directory.
    Example: credreg audit replay --at 2026-03-01 --json report.json --csv-dir audit/
    """
    from credreg.audit.export import events_csv, write_credentials_csv
    from credreg.audit.replay import EventHook, checkpoint_path
    from credreg.audit.report import prepare_replayer, report_from, resolve_block, write_report_json

    st = state(ctx)
    check_time(at, "--at")
    _records_options(records_in_memory, work_dir)
    started = time.perf_counter()
    registry = st.registry(audit=True)
    at_time = _at_time(ctx, at)
    from credreg.summaries import known_batches

    known, batch_notes = known_batches(list(batches_dirs or []), registry.domain.chain_id, registry.address)
    to_block = resolve_block(
        registry, at_block=at_block, at_time=at_time, confirmations=st.settings.confirmations
    )
    checkpoint = from_checkpoint or checkpoint_path(st.settings.data_dir, registry)
    notes: list[str] = list(batch_notes)
    replayer = prepare_replayer(
        registry, checkpoint=checkpoint, resume_from=from_checkpoint, resume=resume, to_block=to_block,
        notes=notes, window_blocks=st.settings.node_limits.max_logs_range,
        memory_records=records_in_memory, records_dir=work_dir,
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        on_event: EventHook | None = None
        if csv_dir is not None:
            writer = stack.enter_context(
                events_csv(csv_dir / "events.csv", replayer.decoder, st.settings.zone)
            )
            if replayer.resumed_from is not None:
                # The resumed part was replayed earlier; read its events again for a complete export.
                for _, _, events in replayer.source.windows(replayer.deployment_block, replayer.resumed_from):
                    for event in events:
                        writer.write(event)
            on_event = writer.write
        on_replay, on_views = stack.enter_context(_progress("replay"))
        replayer.run(to_block, on_event=on_event, progress=on_replay)
        report = report_from(
            registry, replayer, at_time=at_time, compare=views, provenance=provenance, recompile=recompile,
            views_progress=on_views, notes=notes, started=started, batches=known,
        )  # fmt: skip
    if csv_dir is not None:
        write_credentials_csv(
            csv_dir / "credentials.csv", replayer.state, report.report_time, st.settings.zone, known
        )
    if json_path is not None:
        # Every root and target is streamed from the replay's records into the JSON, never held at once.
        listed = replayer.state if records else None
        if str(json_path) == "-":
            write_report_json(report, sys.stdout, listed)
            sys.stdout.flush()
        else:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            partial = json_path.with_name(json_path.name + ".partial")
            with partial.open("w", encoding="utf-8") as out:
                write_report_json(report, out, listed)
            partial.replace(json_path)  # nothing half-written under the name asked for
    if json_path is None or str(json_path) != "-":
        print_summary(
            report, checkpoint=checkpoint, csv_dir=csv_dir, json_path=json_path, zone=st.settings.zone
        )
    if not report.clean:
        raise typer.Exit(1)


_ACTION_WORDS = {words.en: words for words in ACTIONS.values()}
_BY_WORDS = {"agency": Words("机构", "agency"), "governor": Words("管理部门", "governor")}


def _change_words(key: str) -> str:
    """`revoke by agency` as `撤销（机构）/ revoke by agency`."""
    action, _, by = key.partition(" by ")
    act, who = _ACTION_WORDS.get(action), _BY_WORDS.get(by)
    return f"{act.zh}（{who.zh}）/ {key}" if act and who else key


def _verdict_words(label: str) -> str:
    words = LEDGER_VERDICTS.get(label)
    return f"{words.zh} / {label}" if words else label


def throughput_line(run: RunInfo) -> str:
    """The replay's rate and the time it is measured over, then the whole audit's time: the rate printed
    is events / the seconds printed beside it."""
    resumed = f"，从区块 {run.resumed_from_block} 续跑 / resumed from block {run.resumed_from_block}" if (
        run.resumed_from_block is not None
    ) else ""  # fmt: skip
    return (
        f"重放 / replayed {run.events_replayed:,} 个事件 / events in {run.replay_seconds:.3f} s "
        f"({run.events_per_second:,.1f} 个/秒 / events/s){resumed}; "
        f"整个审计 / whole audit {run.seconds:.3f} s (重放、视图比对、代码核对 / replay, views, code check)"
    )


def print_summary(
    report: AuditReport,
    *,
    checkpoint: Path | None = None,
    csv_dir: Path | None = None,
    json_path: Path | None = None,
    zone: tzinfo | None = None,
) -> None:
    from rich.table import Table

    from credreg.audit.export import local_time, zone_of

    d = report.deployment
    where = zone_of(zone)
    console.print(
        f"[bold]审计 / Audit of registry {d.address}[/bold] on chain {d.chain_id}: 区块 / blocks "
        f"{d.deployment_block}–{report.through_block} ({local_time(report.through_time, where)}), "
        f"结论时间 / verdicts at {local_time(report.report_time, where)}; 时区 / time zone {where}"
    )
    if report.clean:
        checked = ["每条规则均成立 / every rule held"]
        if report.views is not None:
            checked.append("与合约视图一致 / the views agree")
        if report.provenance is not None:
            checked.append("代码与源码一致 / the code is the source's")
        console.print("[green]✓ 无问题 / no findings[/green]: " + ", ".join(checked))
    else:
        console.print(f"[red]✗ {report.findings_total} 个问题 / finding(s)[/red]")
        for finding in report.findings[:MAX_FINDINGS_SHOWN]:
            at = f"\n      at {finding.event}" if finding.event else ""
            console.print(f"  [red]{finding.kind} {finding.code}[/red]: {finding.message}{at}")
        if report.findings_total > MAX_FINDINGS_SHOWN:
            more = report.findings_total - MAX_FINDINGS_SHOWN
            console.print(f"  … 另有 {more} 个 / and {more} more (see --json)")
        console.print(
            "  按规则 / by rule: " + ", ".join(f"{c} {n}" for c, n in report.findings_by_code.items())
        )
    if report.provenance is not None:
        p = report.provenance
        mark = "[green]✓[/green]" if p.ok else "[red]✗[/red]"
        console.print(f"{mark} 代码 / code: {p.verdict}, {p.detail}; reference: {p.reference_detail}")
    if report.views is not None:
        v = report.views
        records = sum(v.compared.values())
        status = f"{sum(v.mismatched.values())} differ" if v.mismatched else "all equal"
        if not v.complete:
            status += ", incomplete"
        console.print(f"{'[green]✓[/green]' if not v.mismatched and v.complete else '[red]✗[/red]'} 合约视图 / views: "
                      f"{records} records compared at block {v.block}, {status}")  # fmt: skip
        if v.note:
            console.print(f"  [yellow]{v.note}[/yellow]")

    agencies = Table(
        "机构 / agency", "名称 / name", "状态 / state", "批次 / batches", "证书 / certificates",
        "有效批次 / valid", "其他批次 / not valid", "状态变更 / status changes", "签名密钥 / signers",
        title="评价机构 / Agencies",
    )  # fmt: skip
    for a in report.agencies:
        valid = a.root_verdicts.get("valid", 0)
        invalid = (
            "; ".join(f"{_verdict_words(k)} {n}" for k, n in a.root_verdicts.items() if k != "valid") or "-"
        )
        changes = "; ".join(f"{_change_words(k)} {n}" for k, n in a.status_changes.items()) or "-"
        state_words = AGENCY_STATES.get(a.state)
        standing = f"{state_words.zh} / {a.state}" if state_words else a.state
        agencies.add_row(str(a.agency_id), a.name, standing, str(a.roots_issued),
                         _certificates(a.certificates_known, a.batches_with_known_certificates, a.roots_issued),
                         str(valid), invalid, changes, str(len(a.signers)))  # fmt: skip
    console.print(agencies)
    scopes = Table("职业范围 / scope", "名称 / title", "批次 / batches", "已认定机构 / agencies accredited",
                   title="职业范围 / Scopes")  # fmt: skip
    for sc in report.scopes:
        scopes.add_row(f"{sc.occupation_code}/{sc.level}", sc.title, str(sc.roots_issued),
                       ", ".join(map(str, sc.agencies_accredited)) or "-")  # fmt: skip
    console.print(scopes)
    t = report.totals
    console.print(
        f"事件 / events {t.events:,} ("
        + ", ".join(f"{_event_words(name)} {n:,}" for name, n in t.events_by_name.items())
        + f"); 批次 / batches {t.roots:,}; 证书 / certificates "
        + _certificates(t.certificates_known, t.batches_with_known_certificates, t.roots)
        + f"; 状态变更目标 / status targets {t.targets:,}"
    )
    g = report.digest
    console.print(
        f"[bold]摘要 / digest {g.digest}[/bold]  ({g.scheme}, {g.event_count:,} events through block {g.through_block})"
    )
    console.print(throughput_line(report.run))
    for note in report.run.notes:
        console.print(f"注意 / note: {note}")
    outputs = [f"checkpoint {checkpoint}"] if checkpoint else []
    if json_path is not None:
        outputs.append(f"report {json_path}")
    if csv_dir is not None:
        outputs.append(f"CSV {csv_dir / 'events.csv'}, {csv_dir / 'credentials.csv'}")
    if outputs:
        console.print("已写入 / wrote " + "; ".join(outputs))


def _event_words(name: str) -> str:
    words = EVENTS.get(name)
    return f"{words.zh} {name}" if words else name


def _certificates(count: int, known: int, batches: int) -> str:
    """How many certificates, and of how many batches that is known: the ledger itself counts batches only."""
    if not batches:
        return "0"
    if not known:
        return "未知 / unknown (--batches DIR)"
    if known == batches:
        return f"{count:,}"
    return f"{count:,} (仅 {known}/{batches} 个批次已知 / in {known} of {batches} batches known)"


def _credential_inputs(
    hash_: str | None, root: str | None, proof: list[str], document: Path | None, agency: int | None
) -> tuple[str, str | None, list[str], int | None, str | None]:
    """(leaf, root, proof, agency, note) from the command line or a wrapped document."""
    if document is None:
        if hash_ is None:
            raise ConfigError("give a hash (a root or a document's target hash) or --document FILE")
        return (
            _hash32(hash_, "HASH"),
            _hash32(root, "--root") if root else None,
            [_hash32(p, "--proof") for p in proof],
            agency,
            None,
        )
    from credreg.documents.wrap import check_target_hash, load_document

    try:
        text = document.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError(f"cannot read {document}: {exc}") from exc
    wrapped = load_document(text)
    signature = wrapped["signature"]
    note = None if check_target_hash(wrapped) else (
        f"{document}'s data does not match its target hash: the file was altered after wrapping"
    )  # fmt: skip
    return (
        "0x" + signature["targetHash"].lower(),
        "0x" + signature["merkleRoot"].lower(),
        ["0x" + p.lower() for p in signature["proof"]],
        _agency_named_in(wrapped),
        note,
    )


def _agency_named_in(wrapped: WrappedDocument) -> int | None:
    """The agency a credreg certificate names; None for another OpenAttestation document (the replay then
    finds the one agency whose namespace holds its hashes)."""
    from credreg.documents.layout import binding_from_document

    try:
        return binding_from_document(wrapped).agency_id
    except MalformedDocument:
        return None


def _hash32(value: str, name: str) -> str:
    from credreg.hashes import hash32

    try:
        return hash32(value.strip())
    except DocumentError:
        raise typer.BadParameter(f"{value!r} is not a 32-byte hex hash", param_hint=name) from None


@audit_app.command("status")
def status(
    ctx: typer.Context,
    hash_: Annotated[
        str | None,
        typer.Argument(metavar="HASH", help="A root, or a document's target hash (with --root/--proof)."),
    ] = None,
    at: Annotated[
        str, typer.Option("--at", help="The moment asked about: an ISO date or date-time, or now.")
    ] = "now",
    root: Annotated[
        str | None, typer.Option("--root", help="The merkle root the hash was issued under.")
    ] = None,
    proof: Annotated[
        list[str] | None,
        typer.Option("--proof", help="A sibling hash of the merkle proof, leaf first; repeat."),
    ] = None,
    document: Annotated[
        Path | None,
        typer.Option("--document", "-d", help="A wrapped certificate file instead of the hashes."),
    ] = None,
    agency: Annotated[
        int | None,
        typer.Option("--agency", min=1, help="The issuing agency, when a bare hash is recorded by several."),
    ] = None,
    from_checkpoint: CheckpointOption = None,
    records_in_memory: RecordsInMemoryOption = None,
    work_dir: WorkDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Was this certificate valid at that moment? Judged from the replayed ledger alone, with its history.

    Exits 0 if it was valid then, 1 if not.
    Example: credreg audit status --document alice.json --at 2026-03-01
    """
    from credreg.audit.report import audit_credential

    st = state(ctx)
    check_time(at, "--at")
    _records_options(records_in_memory, work_dir)
    registry = st.registry(audit=True)
    leaf, root_hash, proof_hashes, agency_id, note = _credential_inputs(
        hash_, root, list(proof or []), document, agency
    )
    moment = when(ctx, at, "--at")
    with _progress("replay") as (on_replay, _):
        answer = audit_credential(
            registry, leaf, at_time=moment, root=root_hash, proof=proof_hashes, agency_id=agency_id,
            resume_from=from_checkpoint, progress=on_replay, confirmations=st.settings.confirmations,
            memory_records=records_in_memory, records_dir=work_dir,
        )  # fmt: skip
    if as_json:
        print_json(json.loads(answer.model_dump_json()))
    else:
        print_credential(answer, note, st.settings.zone)
    if not answer.then.valid:
        raise typer.Exit(1)


def _both(zh: str | None, en: str) -> str:
    """A report sentence as the rest of the command line shows words: Chinese, then English."""
    return f"{zh} / {en}" if zh and zh != en else en


def print_credential(answer: CredentialAudit, note: str | None = None, zone: tzinfo | None = None) -> None:
    from credreg.audit.export import local_time, zone_of

    where = zone_of(zone)

    def shown(moment: int) -> str:
        return local_time(moment, where) or "从不 / never"

    def verdict(label: str) -> str:
        words = LEDGER_VERDICTS.get(label)
        return f"{words.zh} / {label.upper()}" if words else label.upper()

    under = f" 批次根 / under root {answer.root}" if answer.root and answer.root != answer.hash else ""
    console.print(f"[bold]{answer.hash}[/bold]{under}")
    if note:
        console.print(f"[yellow]注意 / note: {note}[/yellow]")
    then, now = answer.then, answer.now
    colour = "green" if then.valid else "red"
    console.print(
        f"于 / at {shown(answer.at_time)} (账本至区块 / ledger through block {answer.at_block}): "
        f"[{colour}]{verdict(then.verdict)}[/{colour}] — {_both(then.explanation_zh, then.explanation)}"
    )
    colour = "green" if now.valid else "red"
    console.print(
        f"现在 / now (区块 / block {answer.through_block}): [{colour}]{verdict(now.verdict)}[/{colour}] — "
        f"{_both(now.explanation_zh, now.explanation)}"
    )
    if answer.retroactive:
        console.print(f"[yellow]其后 / later: {_both(answer.retroactive_zh, answer.retroactive)}[/yellow]")
    if answer.record is not None:
        r = answer.record
        console.print(
            f"签发 / issued {shown(r.issued_at)}: 机构 / agency {r.agency_id}, 职业范围 / scope {r.scope_id}, "
            f"签名密钥 / signer {r.signer}"
        )
    if answer.history:
        console.print("历史 / history:")
        for item in answer.history:
            console.print(
                f"  {shown(item.time)}  区块 / block {item.block}  {_both(item.text_zh, item.text)}"
            )
    console.print(
        f"摘要 / digest {answer.digest.digest} (至区块 / through block {answer.digest.through_block}); "
        f"时区 / time zone {where}"
    )


@audit_app.command("provenance")
def provenance_cmd(
    ctx: typer.Context,
    at_block: AtBlockOption = None,
    recompile: Annotated[
        bool, typer.Option(help="Recompile contracts/ (else compare with the committed artifact).")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Compare the deployed registry's runtime code with what contracts/ compiles to; exits 1 on a mismatch.

    Example: credreg audit provenance
    """
    from credreg.audit.provenance import check_provenance
    from credreg.audit.report import resolve_block

    st = state(ctx)
    registry = st.registry(audit=True)
    block = resolve_block(registry, at_block=at_block, at_time=None, confirmations=st.settings.confirmations)
    result = check_provenance(registry.w3, registry.address, block, recompile=recompile)
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        mark = "[green]✓[/green]" if result.ok else "[red]✗[/red]"
        console.print(f"{mark} {registry.address} at block {block}: {result.verdict}, {result.detail}")
        console.print(f"  reference: {result.reference_detail}")
    if not result.ok:
        raise typer.Exit(1)


__all__ = ["audit_app", "print_credential", "print_summary"]


@audit_app.command("status-lists")
def status_lists_cmd(
    ctx: typer.Context,
    service: Annotated[
        str, typer.Argument(help="The credreg service publishing the lists, e.g. https://host.")
    ],
    operator_keys: Annotated[
        list[str] | None,
        typer.Option("--operator-key", help="A did:key the lists may be signed with (repeat)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the service's revocation and suspension lists from the ledger's events and compare.

    Only the batches' leaves come from the service (checked against their roots on the ledger); exits 1 on
    any difference. Example: credreg audit status-lists https://registry.example.org
    """
    from credreg.audit.statuslists import audit_status_lists  # the JSON-LD stack, only here

    if not service.startswith(("https://", "http://")):
        raise ConfigError(f"the service must be an http(s) URL, got {service!r}")
    registry = state(ctx).registry(audit=True)
    audit = audit_status_lists(registry, service, trusted_keys=operator_keys or ())
    if as_json:
        print_json(
            {
                "service": audit.service,
                "as_of_block": audit.as_of_block,
                "operator_key": audit.operator_key,
                "batches": audit.batches,
                "certificates": audit.certificates,
                "set_bits": audit.set_bits,
                "clean": audit.clean,
                "problems": audit.problems,
                "differences": [d.__dict__ for d in audit.differences],
                "without_positions": [{"agency_id": a, "root": r} for a, r in audit.without_positions],
            }
        )
    else:
        console.print(
            f"status lists of {audit.service} as of block {audit.as_of_block}, signed by {audit.operator_key}: "
            f"{audit.batches} batch(es), {audit.certificates} certificate(s), set bits {audit.set_bits}"
        )
        if audit.without_positions:
            console.print(
                f"  {len(audit.without_positions)} batch(es) on the ledger have no positions (leaves not given)"
            )
        for problem in audit.problems:
            console.print(f"  [red]problem[/]: {problem}")
        for difference in audit.differences[:MAX_FINDINGS_SHOWN]:
            console.print(
                f"  [red]differs[/]: {difference.purpose} position {difference.position}: published "
                f"{int(difference.published)}, ledger {int(difference.recomputed)}"
            )
        console.print(
            "[green]the published lists match the ledger[/]" if audit.clean else "[red]they do not match[/]"
        )
    if not audit.clean:
        raise typer.Exit(1)
