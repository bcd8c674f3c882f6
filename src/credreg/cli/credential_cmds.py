"""Agency, holder and employer commands: issue, revoke / suspend / reinstate, disclose, verify."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from credreg.chain.eip712 import StatusAction
from credreg.cli.common import (
    DevAccountOption,
    JsonOption,
    KeystoreOption,
    State,
    console,
    err_console,
    load_account,
    print_json,
    state,
)
from credreg.cli.safe_cmds import UnsignedTxOption, write_unsigned_tx
from credreg.cli.timeparse import show_time
from credreg.documents.disclosure import disclose as disclose_fields
from credreg.documents.layout import binding_from_document, hidden_fields, hideable_fields
from credreg.documents.wrap import dump_document, load_document
from credreg.errors import ConfigError, DocumentError
from credreg.issuance import issue_results_file
from credreg.registry import Governor, Registry, Relayer
from credreg.verify import Outcome, VerificationReport, verify_documents, verify_offline

IDENTITY_ENV = "CREDREG_IDENTITY_LOCATION"


def issue(
    ctx: typer.Context,
    results: Annotated[
        Path, typer.Argument(help="Assessment results, .csv or .jsonl (one row per certificate).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the wrapped certificate files.")],
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    relayer_keystore: Annotated[
        Path | None, typer.Option(help="Key that pays for the transaction (default: the signer itself).")
    ] = None,
    identity_location: Annotated[
        str | None,
        typer.Option(
            help=f"Domain whose DNS TXT record names this registry (default ${IDENTITY_ENV} or localhost)."
        ),
    ] = None,
) -> None:
    """Agency: issue every certificate of a results file as one batch (one root on the ledger).

    All or nothing: if anything fails, run the same command again; it resumes, never issues twice.
    Example: credreg issue results.csv --out certificates/ -k agency-signer.json
    """
    st = state(ctx)
    registry = st.registry()
    signer = load_account(st, keystore, dev_account, role="agency signer")
    relayer = load_account(st, relayer_keystore, None, role="relayer") if relayer_keystore else signer
    location = identity_location or os.environ.get(IDENTITY_ENV) or "localhost"
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err_console, transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        outcome = issue_results_file(
            registry, signer, relayer, results, out, identity_location=location, progress=progress,
            confirmations=st.settings.confirmations,
            batches_dir=st.settings.data_dir / "batches",
        )  # fmt: skip
    s = outcome.summary
    if outcome.already_done:
        console.print(
            f"already issued: this file is batch {s.root} ({s.count} certificates in {out}); nothing to do"
        )
        return
    console.print(
        f"{'resumed and ' if outcome.resumed else ''}issued {s.count} certificate(s) under root {s.root}"
    )
    console.print(f"  agency {s.agency_id}, scope {s.scope_id}, valid until {show_time(s.valid_until)}")
    if s.transaction_hash:
        console.print(f"  transaction {s.transaction_hash} in block {s.block_number}")
    console.print(f"  documents in {out}/ (summary batch-{s.root[2:18]}.json)")


def _status_change(
    ctx: typer.Context,
    action: StatusAction,
    document: Path | None,
    root: str | None,
    target: str | None,
    whole_batch: bool,
    reason: int,
    keystore: Path | None,
    dev_account: int | None,
    as_governor: bool,
    agency: int | None,
    unsigned_tx: Path | None,
) -> None:
    st: State = state(ctx)
    registry = st.registry()
    doc_agency, root_hash, target_hash, proof = _target(document, root, target, whole_batch)
    if unsigned_tx:
        agency_id = doc_agency or agency
        if agency_id is None:
            raise ConfigError("as the governor, say whose root it is: pass the document file, or --agency N")
        what = (
            f"{action.name.lower()} {target_hash} (root {root_hash} of agency {agency_id}, reason {reason}) "
            f"as the governor"
        )
        write_unsigned_tx(
            ctx,
            unsigned_tx,
            what,
            "governorSetStatus",
            agency_id,
            root_hash,
            target_hash,
            proof,
            int(action),
            reason,
        )
        return
    account = load_account(st, keystore, dev_account, role="governor" if as_governor else "agency signer")
    agency_id = _agency_of(registry, account.address, doc_agency or agency, as_governor)
    if as_governor:
        Governor(registry, account, st.settings.confirmations).set_status(
            agency_id, root_hash, target_hash, proof, action, reason
        )
    else:
        signed = registry.sign_status_change(
            account, agency_id, root_hash, target_hash, proof, action, reason
        )
        Relayer(registry, account, st.settings.confirmations).set_status(signed)
    verb = {
        StatusAction.REVOKE: "revoked",
        StatusAction.SUSPEND: "suspended",
        StatusAction.REINSTATE: "reinstated",
    }
    console.print(f"{target_hash} {verb[action]} (root {root_hash})")


def _target(
    document: Path | None, root: str | None, target: str | None, whole_batch: bool
) -> tuple[int | None, str, str, list[str]]:
    """(the document's agency or None, root, target, proof) of what a status change names."""
    if document is not None:
        if root or target:
            raise ConfigError("give a document file, or --root/--target, not both")
        doc = load_document(_read(document))
        agency_id = binding_from_document(doc).agency_id
        sig = doc["signature"]
        root_hash = "0x" + sig["merkleRoot"]
        if whole_batch:
            return agency_id, root_hash, root_hash, []
        return agency_id, root_hash, "0x" + sig["targetHash"], ["0x" + p for p in sig["proof"]]
    if root is None:
        raise ConfigError("name what to change: a document file, or --root (with --target for a single leaf)")
    if target is not None and target.lower() != root.lower():
        raise ConfigError("a leaf needs its merkle proof: pass the document file instead of --target")
    return None, root, root, []


def _agency_of(registry: Registry, account: str, named: int | None, as_governor: bool) -> int:
    """Whose namespace a status change acts in: the document's agency, --agency, or the signer key's own."""
    if as_governor:
        if named is None:
            raise ConfigError("as the governor, say whose root it is: pass the document file, or --agency N")
        return named
    own = registry.signer(account).agency_id
    if own == 0:
        raise ConfigError(f"key {account} is not a signer key of any agency on this registry")
    if named is not None and named != own:
        raise ConfigError(
            f"the certificate belongs to agency {named}, but key {account} is a signer of agency {own}; "
            f"only agency {named}'s keys (or the governor) can change its status"
        )
    return own


DocumentArg = Annotated[Path | None, typer.Argument(help="A wrapped certificate file.", show_default=False)]
RootOpt = Annotated[
    str | None, typer.Option(help="A root hash (0x…) instead of a document: the whole batch.")
]
TargetOpt = Annotated[str | None, typer.Option(hidden=True)]
WholeOpt = Annotated[
    bool, typer.Option("--whole-batch", help="Change the document's whole batch (its root).")
]
ReasonOpt = Annotated[int, typer.Option(min=0, max=65535, help="Reason code recorded on the ledger.")]
GovernorOpt = Annotated[
    bool, typer.Option("--as-governor", help="Act as the governor instead of the agency.")
]
AgencyOpt = Annotated[
    int | None, typer.Option("--agency", min=1, help="With --root: the agency whose root it is.")
]


def _status_command(action: StatusAction, help_text: str) -> Callable[..., None]:
    """One command per action; they differ only in what they ask the ledger to do."""

    def command(
        ctx: typer.Context, document: DocumentArg = None, root: RootOpt = None, target: TargetOpt = None,
        whole_batch: WholeOpt = False, reason: ReasonOpt = 0, keystore: KeystoreOption = None,
        dev_account: DevAccountOption = None, as_governor: GovernorOpt = False, agency: AgencyOpt = None,
        unsigned_tx: UnsignedTxOption = None,
    ) -> None:  # fmt: skip
        _status_change(
            ctx, action, document, root, target, whole_batch, reason, keystore, dev_account, as_governor,
            agency, unsigned_tx,
        )  # fmt: skip

    command.__doc__ = help_text
    command.__name__ = action.name.lower()
    return command


revoke = _status_command(
    StatusAction.REVOKE,
    """Agency (or governor): revoke a certificate for good, or its whole batch with --whole-batch.

    Example: credreg revoke certificates/C-2026-0001.json --reason 3 -k agency-signer.json
    """,
)
suspend = _status_command(
    StatusAction.SUSPEND,
    """Agency (or governor): suspend a certificate (reversible with `credreg reinstate`).

    Example: credreg suspend certificates/C-2026-0002.json --reason 7 -k agency-signer.json
    """,
)
reinstate = _status_command(
    StatusAction.REINSTATE,
    """Agency (or governor): reinstate a suspended certificate.

    Example: credreg reinstate certificates/C-2026-0002.json -k agency-signer.json
    """,
)


def disclose(
    document: Annotated[Path, typer.Argument(help="Your wrapped certificate file.")],
    hide: Annotated[
        list[str] | None, typer.Option("--hide", help="A field to hide, e.g. recipient.idNumber (repeat).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write the disclosed copy.")
    ] = None,
    list_fields: Annotated[bool, typer.Option("--list", help="List the fields you may hide.")] = False,
) -> None:
    """Holder: make a copy of your certificate with some fields hidden; it still verifies.

    Example: credreg disclose C-2026-0001.json --hide recipient.idNumber --out shared.json
    """
    doc = load_document(_read(document))
    if list_fields:
        from credreg.documents.layout import binding_from_document

        kind = binding_from_document(doc).kind
        already = set(hidden_fields(doc))
        for name in hideable_fields(kind):
            console.print(f"{name}{'  (hidden)' if name in already else ''}")
        return
    if not hide:
        raise ConfigError("name at least one field with --hide (see --list)")
    if out is None:
        raise ConfigError("give --out FILE for the disclosed copy (the original is kept as it is)")
    if out.exists():
        raise ConfigError(f"{out} already exists; refusing to overwrite it")
    disclosed = disclose_fields(doc, hide)
    from credreg.chain.manifest import write_atomically

    write_atomically(out, dump_document(disclosed) + "\n")
    console.print(f"wrote {out} with {', '.join(hidden_fields(disclosed))} hidden")


def verify(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Wrapped certificate files.")],
    as_json: JsonOption = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only check the file itself; no ledger.")
    ] = False,
) -> None:
    """Employer: verify certificate files. Exit code 0 all valid, 1 some invalid, 2 an error (e.g. no ledger).

    Example: credreg verify shared.json --json
    """
    raws: list[Any] = [_read_or_error(f) for f in files]
    registry: Registry | None = None
    if not offline:
        registry = state(ctx).registry()
    reports: list[VerificationReport] = []
    readable = [r for r in raws if not isinstance(r, VerificationReport)]
    checked = iter(
        verify_documents(registry, readable) if registry else [verify_offline(r) for r in readable]
    )
    for raw in raws:
        reports.append(raw if isinstance(raw, VerificationReport) else next(checked))
    if as_json:
        print_json(
            [{"file": str(f), **r.model_dump(mode="json")} for f, r in zip(files, reports, strict=True)]
        )
    else:
        _print_reports(files, reports)
    outcomes = {r.verdict for r in reports}
    raise typer.Exit(2 if Outcome.ERROR in outcomes else 1 if Outcome.INVALID in outcomes else 0)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _read_or_error(path: Path) -> bytes | VerificationReport:
    try:
        return _read(path)
    except DocumentError as exc:
        report = verify_offline(b"")
        return report.model_copy(update={"summary": str(exc), "code": "unreadable"})


_COLOURS = {"valid": "green", "invalid": "red", "error": "yellow", "skipped": "dim"}


def _print_reports(files: list[Path], reports: list[VerificationReport]) -> None:
    for path, report in zip(files, reports, strict=True):
        colour = _COLOURS[report.verdict.value]
        console.print(f"[bold {colour}]{report.verdict.value.upper()}[/] {path}: {report.summary}")
        table = Table(show_header=False, box=None, padding=(0, 1))
        for step in report.steps:
            table.add_row(f"[{_COLOURS[step.status.value]}]{step.status.value}[/]", step.name, step.reason)
        console.print(table)
        if report.agency:
            console.print(
                f"  agency: {report.agency.name} ({report.agency.registration_code}), {report.agency.state}"
            )
        if report.hidden_fields:
            console.print(f"  hidden by the holder: {', '.join(report.hidden_fields)}")
