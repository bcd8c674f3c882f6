"""Agency, holder and employer commands: issue, revoke / suspend / reinstate, disclose, verify."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

import typer
from rich.markup import escape

from credreg.cli.common import (
    DevAccountOption,
    JsonOption,
    KeystoreOption,
    State,
    console,
    err_console,
    load_account,
    local_time,
    local_window,
    state,
)
from credreg.cli.safe_cmds import UnsignedTxOption, write_unsigned_tx
from credreg.errors import ChainUnreachable, ConfigError, DocumentError
from credreg.labels import (
    AGENCY_STATES,
    ISSUE_MESSAGES,
    KIND_NAMES,
    NOTES,
    VERDICTS,
    field_words,
    level_words,
    reason_words,
)

if TYPE_CHECKING:
    from rich.progress import TaskID

    from credreg.chain.eip712 import StatusAction
    from credreg.chain.trustlist import TrustList
    from credreg.documents.wrap import WrappedDocument
    from credreg.issuance import IssuePreview
    from credreg.registry import BlockHead, Registry
    from credreg.verify import Outcome, VerificationReport

if TYPE_CHECKING:
    from credreg.vc.ledger import RegistryResolver

IDENTITY_ENV = "CREDREG_IDENTITY_LOCATION"


def issue(
    ctx: typer.Context,
    results: Annotated[
        Path, typer.Argument(help="Assessment results, .csv or .jsonl (one row per certificate).")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Directory for the wrapped certificate files.")
    ],
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
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Issue without asking (for scripts).")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Go through the issuance up to the ledger (read, check, salt, hash, build the tree) and "
            "show what would be issued and the root computed; write nothing, send nothing.",
        ),
    ] = False,
    vc: Annotated[
        bool,
        typer.Option(
            "--vc", help="Also write a W3C VC 2.0 per certificate (under OUT/vc/), signed with --vc-key."
        ),
    ] = False,
    vc_key: Annotated[
        Path | None,
        typer.Option(
            "--vc-key",
            help="With --vc: the agency's Ed25519 issuer key (PKCS#8 PEM, registered on the ledger).",
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            metavar="URL",
            help="Hand the signed batch to a credreg service, which relays it and learns its certificates "
            "(and publishes their status list positions: needed with --vc).",
        ),
    ] = None,
    files: Annotated[
        bool,
        typer.Option("--files/--no-files", help="Write one JSON file per certificate (the default)."),
    ] = True,
    archive: Annotated[
        bool,
        typer.Option(
            "--archive",
            help="Also write every certificate into one JSON-lines file, OUT/batch-<root>.jsonl, which "
            "credreg verify and credreg disclose read directly (with --no-files: only that file).",
        ),
    ] = False,
) -> None:
    """Agency: issue every certificate of a results file as one batch (one root on the ledger).

    First shows the agency (of the signer key), the scope, the count and the validity, and asks to
    confirm; --yes skips the question; --dry-run salts and hashes every certificate and shows the root it
    computed, writing and sending nothing. All or nothing: if anything fails, run the
    same command again; it resumes, never issues twice. Run on a batch issued before with --archive (or
    without --no-files), it writes the form the batch lacks from its documents, sending nothing.
    With --service URL the service sends the transaction and can then answer for each certificate.
    Memory stays bounded whatever the batch's size (a million certificates take under 200 MB).
    Example: credreg issue results.csv --out certificates/ -k agency-signer.json
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from credreg.cli import service_client
    from credreg.documents.wrap import load_document
    from credreg.issuance import dry_run_results_file, issue_results_file, preview_results_file

    st = state(ctx)
    if vc and (vc_key is None or service is None):
        raise ConfigError("--vc needs --vc-key (the agency's issuer key) and --service (where the lists are)")
    if not files and not archive:
        raise ConfigError(
            "--no-files 需与 --archive 同用，否则不会写出任何证书 / --no-files needs --archive: otherwise no "
            "certificate would be written"
        )
    if vc and not files:
        raise ConfigError("--vc writes a VC beside each certificate file: drop --no-files")
    if service is not None and not service.startswith(("https://", "http://")):
        raise ConfigError(f"--service must be an http(s) URL, got {service!r}")
    issuer_key = None
    if vc and vc_key is not None:
        from credreg.cli.vc_cmds import load_issuer_key

        issuer_key = load_issuer_key(vc_key)  # before anything is issued: a bad key file stops here
    registry = st.registry()
    signer = load_account(st, keystore, dev_account, role="agency signer")
    horizon = st.settings.valid_until_horizon_years
    location = identity_location or os.environ.get(IDENTITY_ENV) or "localhost"
    if dry_run:
        tried = dry_run_results_file(
            registry, signer, results, out, identity_location=location, horizon_years=horizon,
            batches_dir=st.settings.data_dir / "batches", files=files, archive=archive,
        )  # fmt: skip
        _show_preview(ctx, tried.preview)
        said = ISSUE_MESSAGES[f"dry-run-{tried.status}"]
        forms = [ISSUE_MESSAGES[f"form-{form}"] for form in tried.missing]
        zh = f"，只会补写{'与'.join(w.zh for w in forms)}" if forms else ""
        en = f"; it only writes its {' and '.join(w.en for w in forms)}" if forms else ""
        mb = f"{tried.document_bytes / 1e6:,.1f}"
        for text in (said.zh, said.en):
            console.print(text.format(root=tried.root, count=tried.count, mb=mb, zh=zh, en=en))
        return
    if not yes and not sys.stdin.isatty():
        _show_preview(ctx, preview_results_file(registry, signer, results, horizon_years=horizon))
        raise ConfigError(
            "无法在此确认（没有终端）：核对以上信息后加 --yes 颁发，或加 --dry-run 只查看 / "
            "cannot ask for confirmation here (no terminal): check the above and pass --yes to issue, "
            "or --dry-run to only look"
        )
    relayer = load_account(st, relayer_keystore, None, role="relayer") if relayer_keystore else signer
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err_console, transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        def confirm(preview: IssuePreview) -> None:
            # Shown once the file is read and checked (the first pass), before anything is signed or sent.
            bar.stop()
            _show_preview(ctx, preview)
            if not yes and not typer.confirm("确认颁发？/ Issue these certificates?", default=False):
                console.print("已取消，未发送任何内容 / cancelled: nothing was sent")
                raise typer.Exit(1)
            bar.start()

        outcome = issue_results_file(
            registry, signer, relayer, results, out, identity_location=location, progress=progress,
            confirmations=st.settings.confirmations,
            batches_dir=st.settings.data_dir / "batches",
            horizon_years=horizon,
            submit=(lambda signed, leaves: service_client.relay_issue(service, signed, leaves))
            if service else None,
            files=files, archive=archive, confirm=confirm,
        )  # fmt: skip
    s = outcome.summary
    if (
        service
        and s.leaves
        and (s.transaction_hash is None or s.count > service_client.LEAVES_IN_ONE_REQUEST)
    ):
        # Recorded before (a resumed or repeated run), or relayed by its root alone (too many leaves for one
        # request): the service learns the certificates now, in parts for a large batch (run again: resumes).
        from credreg.cli.batch_cmds import say_listed, upload_summary
        from credreg.summaries import read_summary

        summary_file = out / f"batch-{s.root[2:18]}.json"
        say_listed(upload_summary(service, summary_file, read_summary(summary_file), signer))
    if issuer_key is not None and service is not None:
        from credreg.cli.vc_cmds import write_batch_vcs

        documents = [(out / name, load_document(_read(out / name))) for name in s.files]
        written = write_batch_vcs(service, issuer_key, documents, out / "vc")
        console.print(f"  {len(written)} VC 2.0 file(s) in {out / 'vc'}/, signed by {issuer_key.did}")
    if outcome.already_done and outcome.added:
        forms = [ISSUE_MESSAGES[f"form-{form}"] for form in outcome.added]
        said = ISSUE_MESSAGES["forms-added"]
        console.print(said.zh.format(root=s.root, zh="、".join(w.zh for w in forms)))
        console.print(said.en.format(root=s.root, en=" and ".join(w.en for w in forms)))
        if s.archive and "archive" in outcome.added:
            console.print(f"  archive {out / s.archive} (one certificate a line)")
        if "files" in outcome.added:
            console.print(f"  documents in {out}/ (summary batch-{s.root[2:18]}.json)")
        return
    if outcome.already_done:
        said = ISSUE_MESSAGES["already-issued"]
        console.print(f"{said.zh.format(root=s.root, count=s.count, out=out)}")
        console.print(f"{said.en.format(root=s.root, count=s.count, out=out)}")
        return
    console.print(
        f"{'resumed and ' if outcome.resumed else ''}issued {s.count} certificate(s) under root {s.root}"
    )
    console.print(
        f"  agency {s.agency_id}, scope {s.scope_id}, valid until {local_time(ctx, s.valid_until, 'no end')}"
    )
    if s.transaction_hash:
        console.print(f"  transaction {s.transaction_hash} in block {s.block_number}")
    if files:
        console.print(f"  documents in {out}/ (summary batch-{s.root[2:18]}.json)")
    if s.archive:
        console.print(f"  archive {out / s.archive} (one certificate a line)")


def _show_preview(ctx: typer.Context, p: IssuePreview) -> None:
    """Who would issue what: the agency of the signer key, the scope, the count and the validity."""
    level = level_words(p.level, p.kind)
    title = p.scope_title or "账本上未定义此范围 / this scope is not defined on the ledger"
    until = (
        f"{p.valid_until_date}（含当日 / through that day; 账本 / ledger: "
        f"{local_time(ctx, p.valid_until)} 止 / exclusive)"
        if p.valid_until_date
        else "长期有效 / no end"
    )
    accredited = (
        local_window(ctx, p.accredited_from, p.accredited_until)
        if p.accredited
        else "[red]未认定此范围 / not accredited for this scope[/red]"
    )
    console.print("即将颁发 / about to issue:")
    console.print(f"  评价机构 / agency:      {p.agency_id} {escape(p.agency_name)}")
    console.print(f"  签名密钥 / signer key:  {p.signer}")
    console.print(f"  证书类别 / kind:        {KIND_NAMES[p.kind]}")
    console.print(f"  职业范围 / scope:       {p.occupation_code}/{p.level} {level.zh} ({level.en})")
    console.print(f"                          {escape(title)}")
    console.print(f"  评价资格 / accredited:  {accredited}")
    console.print(f"  数量 / count:           {p.count} 张证书 / certificates")
    console.print(f"  有效期至 / valid until: {until}")


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
    from credreg.chain.eip712 import StatusAction
    from credreg.registry import Governor, Relayer

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
    words = {
        StatusAction.REVOKE: "已撤销 / revoked",
        StatusAction.SUSPEND: "已暂停 / suspended",
        StatusAction.REINSTATE: "已恢复 / reinstated",
    }
    because = f", {reason_words(reason)}" if action is not StatusAction.REINSTATE else ""
    console.print(f"{target_hash} {verb[action]} (root {root_hash})")
    console.print(f"  {words[action]}{because}")


def _target(
    document: Path | None, root: str | None, target: str | None, whole_batch: bool
) -> tuple[int | None, str, str, list[str]]:
    """(the document's agency or None, root, target, proof) of what a status change names."""
    from credreg.documents.layout import binding_from_document
    from credreg.documents.wrap import load_document

    if document is not None:
        if root or target:
            raise ConfigError(
                "证书文件与 --root/--target 只能给一个 / give a document file, or --root/--target, not both"
            )
        doc = load_document(_read(document))
        agency_id = binding_from_document(doc).agency_id
        sig = doc["signature"]
        root_hash = "0x" + sig["merkleRoot"]
        if whole_batch:
            return agency_id, root_hash, root_hash, []
        return agency_id, root_hash, "0x" + sig["targetHash"], ["0x" + p for p in sig["proof"]]
    if root is None:
        raise ConfigError(
            "请指明要更改的证书：证书文件，或 --root（整批） / name what to change: a document file, or "
            "--root (with --target for a single leaf)"
        )
    if target is not None and target.lower() != root.lower():
        raise ConfigError(
            "单张证书需要其默克尔证明，请改为给出证书文件 / a leaf needs its merkle proof: pass the document "
            "file instead of --target"
        )
    return None, root, root, []


def _agency_of(registry: Registry, account: str, named: int | None, as_governor: bool) -> int:
    """Whose namespace a status change acts in: the document's agency, --agency, or the signer key's own."""
    if as_governor:
        if named is None:
            raise ConfigError(
                "以主管部门身份操作时，请说明是哪个机构的证书：给出证书文件或 --agency N / as the governor, say "
                "whose root it is: pass the document file, or --agency N"
            )
        return named
    own = registry.signer(account).agency_id
    if own == 0:
        raise ConfigError(
            f"密钥 {account} 不是任何评价机构的签名密钥 / key {account} is not a signer key of any agency on "
            f"this registry"
        )
    if named is not None and named != own:
        raise ConfigError(
            f"该证书属于机构 {named}，而密钥 {account} 属于机构 {own}；只有机构 {named} 的密钥或主管部门可以更改其状态 / "
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
ReasonOpt = Annotated[
    int, typer.Option(min=0, max=65535, help="Reason code recorded on the ledger (see credreg reasons).")
]
GovernorOpt = Annotated[
    bool, typer.Option("--as-governor", help="Act as the governor instead of the agency.")
]
AgencyOpt = Annotated[
    int | None, typer.Option("--agency", min=1, help="With --root: the agency whose root it is.")
]


def _status_command(action_name: str, help_text: str) -> Callable[..., None]:
    """One command per action; they differ only in what they ask the ledger to do."""

    def command(
        ctx: typer.Context, document: DocumentArg = None, root: RootOpt = None, target: TargetOpt = None,
        whole_batch: WholeOpt = False, reason: ReasonOpt = 0, keystore: KeystoreOption = None,
        dev_account: DevAccountOption = None, as_governor: GovernorOpt = False, agency: AgencyOpt = None,
        unsigned_tx: UnsignedTxOption = None,
    ) -> None:  # fmt: skip
        from credreg.chain.eip712 import StatusAction

        _status_change(
            ctx, StatusAction[action_name], document, root, target, whole_batch, reason, keystore, dev_account,
            as_governor, agency, unsigned_tx,
        )  # fmt: skip

    command.__doc__ = help_text
    command.__name__ = action_name.lower()
    return command


revoke = _status_command(
    "REVOKE",
    """Agency (or governor): revoke a certificate for good, or its whole batch with --whole-batch.

    Example: credreg revoke certificates/C-2026-0001.json --reason 3 -k agency-signer.json
    """,
)
suspend = _status_command(
    "SUSPEND",
    """Agency (or governor): suspend a certificate (reversible with `credreg reinstate`).

    Example: credreg suspend certificates/C-2026-0002.json --reason 7 -k agency-signer.json
    """,
)
reinstate = _status_command(
    "REINSTATE",
    """Agency (or governor): reinstate a suspended certificate.

    Example: credreg reinstate certificates/C-2026-0002.json -k agency-signer.json
    """,
)


def disclose(
    document: Annotated[
        Path,
        typer.Argument(
            help="Your wrapped certificate file, or a batch archive (.jsonl) with --target/--line."
        ),
    ],
    hide: Annotated[
        list[str] | None, typer.Option("--hide", help="A field to hide, e.g. recipient.idNumber (repeat).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE", help="Where to write the disclosed copy.")
    ] = None,
    list_fields: Annotated[
        bool, typer.Option("--list", help="List the fields you may hide, with their values.")
    ] = False,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", metavar="HASH", help="From an archive: the certificate with this target hash."
        ),
    ] = None,
    line: Annotated[
        int | None,
        typer.Option("--line", min=1, help="From an archive: the certificate on this line (from 1)."),
    ] = None,
) -> None:
    """Holder: make a copy of your certificate with some fields hidden; it still verifies.

    Works on the certificate file and on its SD-JWT VC, with the same field names, and on one certificate
    of a batch archive (credreg issue --archive), named by --target or --line.
    Example: credreg disclose C-2026-0001.json --hide recipient.idNumber --out shared.json
    """
    from credreg.documents.archive import find_in_archive, is_archive
    from credreg.documents.disclosure import disclose as disclose_fields
    from credreg.documents.layout import hidden_fields
    from credreg.documents.wrap import dump_document, load_document

    if is_archive(document):
        if (target is None) == (line is None):
            raise ConfigError(
                f"{document} 是批次归档，请用 --target 哈希 或 --line 行号 指明其中一张证书 / {document} is a batch "
                "archive: name one certificate in it with --target HASH or --line N"
            )
        raw = find_in_archive(document, target=target, line=line)
    elif target is not None or line is not None:
        raise ConfigError(
            "--target 和 --line 只用于批次归档（.jsonl） / --target and --line pick a certificate out of a batch "
            "archive (.jsonl); this is a single certificate file"
        )
    else:
        raw = _read(document)
    sd_jwt = is_vc_form(raw) and not raw.lstrip().startswith(b"{")
    doc = None if sd_jwt else load_document(raw)
    if list_fields:
        if doc is None:
            _list_sd_jwt_fields(raw)
        else:
            _list_fields(doc)
        return
    if not hide:
        raise ConfigError(
            "请用 --hide 指明至少一个要隐藏的字段（可用 --list 查看） / name at least one field with --hide "
            "(see --list)"
        )
    if out is None:
        raise ConfigError(
            "请用 --out 文件名 指定隐藏后副本的保存位置（原件保持不变） / give --out FILE for the disclosed "
            "copy (the original is kept as it is)"
        )
    if out.exists():
        raise ConfigError(
            f"{out} 已存在，不会覆盖，请换一个文件名 / {out} already exists; refusing to overwrite it"
        )
    from credreg.chain.manifest import write_atomically

    if doc is None:
        # An SD-JWT VC: the same field names; the hidden fields' disclosures are left out.
        from credreg.vc.sdjwt import present, verify_sd_jwt

        presented = present(_sd_jwt_text(raw), hide)
        write_atomically(out, presented + "\n")
        console.print(f"wrote {out} with {', '.join(verify_sd_jwt(presented).hidden)} hidden")
        return
    disclosed = disclose_fields(doc, hide)
    write_atomically(out, dump_document(disclosed) + "\n")
    console.print(f"wrote {out} with {', '.join(hidden_fields(disclosed))} hidden")


def _sd_jwt_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise DocumentError("the SD-JWT VC is not UTF-8 text") from None


def _list_sd_jwt_fields(raw: bytes) -> None:
    """Each field a holder may hide in an SD-JWT VC, and whether this copy still discloses it."""
    from rich.table import Table

    from credreg.documents.layout import hideable_fields
    from credreg.vc.sdjwt import verify_sd_jwt

    check = verify_sd_jwt(_sd_jwt_text(raw))
    table = Table("字段 / field", "--hide", "内容 / value", box=None, padding=(0, 2, 0, 0))
    for path in hideable_fields(check.kind):
        words = field_words(path)
        value: Any = check.claims
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        shown = (
            "[dim]已隐藏 / hidden[/]"
            if path in check.hidden
            else escape("-" if value is None else str(value))
        )
        table.add_row(f"{words.zh} / {words.en}", path, shown)
    console.print(table)


RegistryOpt = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="Which registry to check against: a credreg service (https://host) or a trust-list file "
        "(docs/trust-list.md). Default: the deployment manifest in the data directory.",
    ),
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Show progress on stderr (default: only on a terminal).",
        show_default=False,
    ),
]
VERIFY_CHUNK = 500  # documents per progress step offline (with a ledger: per round trip, see `_verify_all`)
# Documents read, verified and held at once. A run of more streams: each batch's reports are printed as they
# come and dropped, and only the tally and the first `REVIEW_UP_TO` invalid or erroneous ones are kept.
# Each batch is one `verify_documents` call, so its verdicts describe one block; the tally names the blocks.
VERIFY_BATCH = 10_000
REVIEW_UP_TO = 100


def _list_fields(doc: WrappedDocument) -> None:
    """Each field a holder may hide: its name as people know it, its path for --hide, and its value."""
    from rich.table import Table

    from credreg.documents.layout import binding_from_document, hidden_fields, hideable_fields

    kind = binding_from_document(doc).kind
    already = set(hidden_fields(doc))
    table = Table("字段 / field", "--hide", "内容 / value", box=None, padding=(0, 2, 0, 0))
    for path in hideable_fields(kind):
        words = field_words(path)
        value = "[dim]已隐藏 / hidden[/]" if path in already else escape(_plain_value(doc["data"], path))
        table.add_row(f"{words.zh} / {words.en}", path, value)
    console.print(table)


def _plain_value(data: Any, path: str) -> str:
    from credreg.documents.canonical import unsalt_value

    value = data
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    plain = unsalt_value(value, path) if isinstance(value, str) else value
    return "-" if plain is None else str(plain)


def verify(
    ctx: typer.Context,
    files: Annotated[
        # Strings, made paths below: typer's conversion of each argument to a Path cost 70 µs a file.
        list[str],
        typer.Argument(
            help="Certificate files (as issued, or their VC 2.0 / SD-JWT VC forms), e.g. certificates/*.json."
        ),
    ],
    as_json: JsonOption = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only check the file itself; no ledger.")
    ] = False,
    registry_source: RegistryOpt = None,
    show_progress: ProgressOpt = None,
    status_list_signers: Annotated[
        list[str] | None,
        typer.Option(
            "--status-list-signer",
            help="For VC 2.0 / SD-JWT VC files: an operator key (did:key) trusted to sign the status lists "
            "(repeat). Default: the operator key in the settings, or the dev chain's dev key.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            max=8,
            help="Processes that verify a batch of 2,000 certificates or more, each a part of it "
            "(default: 2 on a machine with two cores or more, else 1).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Employer: verify certificate files. Exit code 0 all valid, 1 some invalid, 2 an error (e.g. no ledger).

    Many files at once end with a tally; invalid ones are listed first; batch summary files are skipped.
    Beyond 10,000 certificates (e.g. a batch archive) each is printed as it is checked, and the invalid
    ones are named again before the tally.
    Example: credreg verify shared.json --registry https://registry.example.org
    """
    from credreg.cli import verify_split

    jobs = verify_split.jobs_for(jobs)
    # Many plain files may be read and verified a part a process (`_verify_files_in_parts`): no thread may
    # run when the process forks. Otherwise the first files are read while the ledger is reached and the
    # verifier loaded: the reads wait on the disk, the connection on the node, each without the other's lock.
    by_parts = (
        not offline
        and jobs > 1
        and len(files) >= verify_split.SPLIT_FROM
        and all(_plain_json_name(name) for name in files)
    )
    certificates = len(files) - sum(_summary_name(name) for name in files) if by_parts else len(files)
    by_parts = by_parts and certificates <= VERIFY_BATCH  # one batch, a batch summary counted by its name
    prefetch = _Prefetch(files) if len(files) > 1 and not by_parts else None
    trust: TrustList | None = None
    registry: Registry | None = None
    if not offline:
        registry, trust = _verify_registry(ctx, registry_source)
    resolver: RegistryResolver | None = None

    def check(
        raws: list[bytes | VerificationReport],
        offset: int | None = None,
        *,
        at: BlockHead | None = None,
        shown: bool | None = show_progress,
        processes: int = jobs,
    ) -> list[VerificationReport]:
        nonlocal resolver
        if (
            resolver is None
            and registry is not None
            and any(isinstance(r, bytes) and is_vc_form(r) for r in raws)
        ):
            from credreg.vc.ledger import RegistryResolver  # the JSON-LD stack, only for VC files

            signers = _status_list_signers(ctx, status_list_signers, registry_source)
            resolver = RegistryResolver(registry, signers)
        reports = _verify_all(registry, raws, shown, resolver, offset=offset, jobs=processes, at=at)
        if trust is not None and trust.agencies is not None:
            reports = [_against_trust_list(r, trust.agencies) for r in reports]
        return reports

    def show(seconds: int) -> str:
        return local_time(ctx, seconds, "never")

    skipped: list[str] = []
    head = None
    if by_parts and registry is not None and verify_split.splits(registry, len(files), jobs):
        head = verify_split.pinned_head(registry)
    if head is not None:  # a part of the files a process, each read and verified there
        assert registry is not None
        # A report shown as text only (a --json element; beyond `DETAIL_UP_TO` files printed as plain text,
        # a valid one's line) is written by the process that verified it (`_Brief`).
        form: Literal["json", "lines"] | None = (
            "json"
            if as_json
            else "lines"
            if not console.is_terminal and certificates > DETAIL_UP_TO
            else None
        )
        kept, reports, skipped = _verify_files_in_parts(
            registry, files, jobs, head, check, show_progress, form=form
        )
        tally = _show_batch(kept, reports, skipped, show, as_json=as_json)
    else:
        # Read as verified: one batch of documents (and their reports) in memory at a time, whatever the
        # count.
        pending = _certificates(_inputs(files, prefetch), skipped)
        first = list(itertools.islice(pending, VERIFY_BATCH))
        following = next(pending, None)
        if following is None:  # one batch: every report at hand
            names = [path for path, _ in first]
            checked = check([raw for _, raw in first])
            del first
            tally = _show_batch(names, checked, skipped, show, as_json=as_json)
        else:
            batches = _batches(first, itertools.chain([following], pending))
            del first
            tally = _verify_streaming(batches, check, skipped, show, as_json=as_json)
    if not tally.total:
        raise ConfigError(
            "没有可验证的证书文件（给出的都是批次汇总文件），请给出证书文件 / no certificate files to verify "
            "(only batch summary files were given); give the certificate files"
        )
    raise typer.Exit(tally.exit_code)


def _show_batch(
    kept: list[str],
    reports: Sequence[VerificationReport | _Brief],
    skipped: list[str],
    show: Callable[[int], str],
    *,
    as_json: bool,
) -> _Tally:
    """One batch's reports, as a JSON array or invalid ones listed first, and its tally."""
    if as_json:
        array = _JsonArray()
        for name, report in zip(kept, reports, strict=True):
            if isinstance(report, _Brief):
                array.add_element(report.text)
            else:
                array.add({"file": name, **report.model_dump(mode="json")})
        for name in skipped:
            array.add({"file": name, "verdict": "skipped", "code": "batch-summary"})
        array.close()
    tally = _Tally.of(reports)
    if not as_json:
        _print_reports(kept, reports, skipped, show, tally)
    return tally


def _verify_files_in_parts(
    registry: Registry,
    files: list[str],
    jobs: int,
    head: BlockHead,
    check: Callable[..., list[VerificationReport]],
    shown: bool | None,
    *,
    form: Literal["json", "lines"] | None,
) -> tuple[list[str], list[VerificationReport | _Brief], list[str]]:
    """`credreg verify` of plain `.json` files, `jobs` parts of them each read and verified by a process of
    its own at `head`: the files verified, their reports and the batch summaries skipped, in order. With
    `form`, a report shown as text only comes back as that text (`_Brief`): every one as its --json element
    ("json"), or a valid one without notes as its plain line ("lines"). The progress bar, if shown, counts
    this process's part."""
    from credreg.cli.verify_split import cut, in_parts
    from credreg.verify import Outcome

    def brief(name: str, report: VerificationReport) -> VerificationReport | _Brief:
        if form == "json":
            text = _JsonArray.element({"file": name, **report.model_dump(mode="json")})
        elif form == "lines" and report.verdict is Outcome.VALID and not report.notes:
            text = _plain_line(name, report)
        else:
            return report
        return _Brief(report.verdict, report.code, report.checked_block, text)

    def part(
        names: Sequence[str], first: bool
    ) -> tuple[list[str], list[VerificationReport | _Brief], list[str]]:
        skipped: list[str] = []
        read = list(_certificates(_inputs(list(names)), skipped))
        kept = [name for name, _ in read]
        reports = check([raw for _, raw in read], at=head, shown=shown if first else False, processes=1)
        return kept, [brief(name, r) for name, r in zip(kept, reports, strict=True)], skipped

    kept: list[str] = []
    reports: list[VerificationReport | _Brief] = []
    skipped: list[str] = []
    for names, checked, passed in in_parts(registry, cut(files, jobs), part):
        kept += names
        reports += checked
        skipped += passed
    return kept, reports, skipped


def _verify_registry(ctx: typer.Context, source: str | None) -> tuple[Registry, TrustList | None]:
    """The registry named by --registry, or by the deployment manifest; never advice to deploy."""
    from credreg.registry import Registry

    st = state(ctx)
    if source is None:
        if not st.settings.manifest_path.exists():
            raise ConfigError(
                "没有指定要查询的登记系统：请加 --registry https://登记系统网址（credreg 服务）或 --registry "
                "trust-list.json（信任列表文件） / no registry to verify against: pass --registry "
                "https://host (a credreg service) or --registry trust-list.json (a trust list, see "
                "docs/trust-list.md)"
            )
        return st.registry(), None
    from credreg.chain.trustlist import resolve_trust_list  # with an HTTP client: only for --registry

    trust = resolve_trust_list(source)
    urls = [st.settings.rpc_url] if st.settings.rpc_url else trust.rpc_urls
    if not urls:
        raise ConfigError(
            f"{source} 没有给出账本节点地址（rpc_urls），请在信任列表中填写或加 --rpc-url / {source} names no "
            "ledger endpoint (rpc_urls): add one to the trust list, or pass --rpc-url"
        )
    failure: ChainUnreachable | None = None
    for url in urls:
        try:
            return Registry.connect(url, trust.manifest()), trust
        except ChainUnreachable as exc:
            failure = exc
    assert failure is not None
    raise failure


def _is_batch_summary(raw: bytes) -> bool:
    """The issuance's `batch-….json` summary: no certificate, but often globbed with them."""
    if raw.find(b'"batch_id"', 0, 4096) < 0:  # without copying the head
        return False
    try:
        parsed = json.loads(raw)
    except ValueError:
        return False
    return isinstance(parsed, dict) and {"batch_id", "root", "files"} <= parsed.keys()


def is_vc_form(raw: bytes) -> bool:
    """A W3C VC 2.0 (JSON naming its ``@context``) or an SD-JWT VC (compact text, not JSON)."""
    if raw[:1] == b"{":  # as written by credreg: without copying the whole text to strip it
        return raw.find(b'"@context"', 0, 4096) >= 0
    head = raw.lstrip()[:1]
    if head != b"{":
        return bool(head) and b"~" in raw
    return b'"@context"' in raw[:4096]


def _status_list_signers(ctx: typer.Context, given: list[str] | None, source: str | None) -> list[str]:
    """The operator keys (0x bytes32) the status lists may be signed with: those given, else the key of the
    service named by --registry (trusted as far as the service is), else the configured or dev key."""
    from credreg.vc.keys import load_signing_key, public_key_from_did
    from credreg.vc.ledger import DEV_KEY_FILE

    if not given and source is not None and source.startswith(("https://", "http://")):
        given = [_service_operator_key(source)]
    if given:
        try:
            return ["0x" + public_key_from_did(did.partition("#")[0]).hex() for did in given]
        except DocumentError as exc:
            raise ConfigError(f"--status-list-signer: {exc}") from exc
    settings = state(ctx).settings
    path = settings.status_list_key or settings.data_dir / DEV_KEY_FILE
    if not path.exists():
        raise ConfigError(
            "验证 VC 需要状态列表签名方的公钥：请加 --status-list-signer did:key:… / verifying a VC needs the "
            "operator key that signs the status lists: pass --status-list-signer did:key:… (docs/interop.md)"
        )
    password = os.environ.get(settings.status_list_password_env)
    return [load_signing_key(path, password.encode() if password else None).public_key_hex]


def _service_operator_key(service: str) -> str:
    import httpx

    url = f"{service.rstrip('/')}/v1/status/batches?root=0x{'00' * 32}"
    try:
        reply = httpx.get(url, timeout=30)
        key = reply.json()["operator_key"] if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise ChainUnreachable(f"{service} does not say which key signs its status lists: {exc}") from exc
    if not isinstance(key, str):
        raise ChainUnreachable(
            f"{service} does not say which key signs its status lists ({reply.status_code})"
        )
    return key


def _verify_all(
    registry: Registry | None,
    raws: list[bytes | VerificationReport],
    show: bool | None,
    resolver: RegistryResolver | None = None,
    *,
    offset: int | None = None,
    jobs: int | None = None,
    at: BlockHead | None = None,
) -> list[VerificationReport]:
    """The reports of `raws`, in order. `offset`: documents already checked in a streamed run (for the
    progress bar, which then counts the whole run). `jobs`: processes, as `verify_batch` takes them; `at`:
    the block to verify at (default: the latest)."""
    from credreg.cli.verify_split import verify_batch
    from credreg.verify import VerificationReport, verify_offline

    if resolver is not None:
        from credreg.vc.verify import verify_credential

        raws = [verify_credential(r, resolver) if isinstance(r, bytes) and is_vc_form(r) else r for r in raws]
    elif registry is None and any(isinstance(r, bytes) and is_vc_form(r) for r in raws):
        raise ConfigError(
            "VC 2.0 / SD-JWT VC 文件需对照账本验证，不能加 --offline / VC 2.0 and SD-JWT VC files are verified "
            "against the ledger: drop --offline"
        )
    readable = [r for r in raws if isinstance(r, bytes)]
    visible = (err_console.is_terminal if show is None else show) and len(readable) > 1
    if visible:
        checked = _verify_showing_progress(registry, readable, offset, jobs, at)
    else:  # without the progress bar's module: a tenth of a second of a one-file run's start-up
        checked = (
            verify_batch(registry, readable, jobs=jobs, at=at)
            if registry
            else [verify_offline(r) for r in readable]
        )
    answers = iter(checked)
    return [raw if isinstance(raw, VerificationReport) else next(answers) for raw in raws]


def _verify_showing_progress(
    registry: Registry | None,
    readable: list[bytes],
    offset: int | None = None,
    jobs: int | None = None,
    at: BlockHead | None = None,
) -> list[VerificationReport]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from credreg.cli.verify_split import verify_batch
    from credreg.verify import verify_offline

    checked: list[VerificationReport] = []
    done = offset or 0
    # A streamed run's total is not known until its last batch is read: the bar counts, without a total.
    count = TextColumn("{task.completed}/{task.total}" if offset is None else "{task.completed}")
    with Progress(
        TextColumn("验证 / verifying"), BarColumn(), count, TimeElapsedColumn(), console=err_console,
        transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("verify", total=len(readable) if offset is None else None, completed=done)
        if registry is not None:
            # One call: the library overlaps its ledger reads with its checks across the whole list.
            return verify_batch(
                registry, readable, progress=lambda n: bar.update(task, completed=done + n), jobs=jobs, at=at
            )
        for start in range(0, len(readable), VERIFY_CHUNK):
            checked.extend(verify_offline(r) for r in readable[start : start + VERIFY_CHUNK])
            bar.update(task, completed=done + len(checked))
    return checked


def _against_trust_list(report: VerificationReport, trusted: list[int]) -> VerificationReport:
    from credreg.verify import Note, Outcome

    if report.verdict is not Outcome.VALID or report.agency is None or report.agency.agency_id in trusted:
        return report
    words = NOTES["agency-not-trusted"]
    return report.model_copy(
        update={
            "verdict": Outcome.INVALID,
            "code": "agency-not-trusted",
            "summary": words.en,
            "notes": [*report.notes, Note(code="agency-not-trusted", zh=words.zh, en=words.en)],
        }
    )


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb", buffering=0) as file:  # unbuffered: one read of the whole file
            return file.readall()
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc


class _Prefetch:
    """The files of the first batch read in a thread, up to the first name that is not a plain `.json` one."""

    def __init__(self, names: list[str]) -> None:
        import threading

        self.names = names[: VERIFY_BATCH + 1]
        self.read: list[bytes | OSError] = []
        self.thread = threading.Thread(target=self._run, name="credreg-verify-read", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for name in self.names:
            if not _plain_json_name(name):
                return
            try:
                self.read.append(_read_whole(name))
            except OSError as exc:
                self.read.append(exc)

    def results(self) -> list[bytes | OSError]:
        self.thread.join()
        return self.read


def _inputs(
    names: list[str], prefetch: _Prefetch | None = None
) -> Iterator[tuple[str, bytes | VerificationReport]]:
    """What `credreg verify` checks: each file, and each document of an archive (as `archive.jsonl:line`),
    named as `Path` writes it. `prefetch`: the first of `names`, already read."""
    from credreg.documents.archive import archive_lines, is_archive

    done = prefetch.results() if prefetch is not None else []
    for index, name in enumerate(names):
        if index < len(done):  # a plain name, read by `_Prefetch`
            got = done[index]
            yield name, got if isinstance(got, bytes) else _unreadable(name, got)
            continue
        if index == len(done):
            done = []  # let go
        if _plain_json_name(name):  # most names: a Path for each cost 15 µs a file
            yield name, _read_or_error(name)
            continue
        path = Path(name)
        shown = str(path)
        if not is_archive(path):
            yield shown, _read_or_error(shown)
            continue
        try:
            for line, raw in archive_lines(path):
                yield f"{shown}:{line}", raw
        except DocumentError:
            yield shown, _read_or_error(shown)


def _summary_name(name: str) -> bool:
    """Whether `name` is named as the issuance names a batch's summary (`batch-<root>.json`)."""
    return os.path.basename(name).startswith("batch-")


def _plain_json_name(name: str) -> bool:
    """Whether `name` is a `.json` file's name that `Path` would write unchanged (no `//`, `./` to drop)."""
    return (
        name[-5:].lower() == ".json" and "//" not in name and "/./" not in name and not name.startswith("./")
    )


Pair = tuple[str, "bytes | VerificationReport"]


def _certificates(inputs: Iterator[Pair], skipped: list[str]) -> Iterator[Pair]:
    """The inputs to verify, as read; the batch summaries among them are put in `skipped`."""
    for path, raw in inputs:
        if isinstance(raw, bytes) and _is_batch_summary(raw):
            skipped.append(path)
            continue
        yield path, raw


def _batches(first: list[Pair], rest: Iterator[Pair]) -> Iterator[list[Pair]]:
    """`first`, then `VERIFY_BATCH` at a time of `rest`; a batch is let go when the next one is read."""
    batch, first = first, []
    while batch:
        yield batch
        batch = []  # let go before the next one is read
        batch = list(itertools.islice(rest, VERIFY_BATCH))


def _read_or_error(name: str) -> bytes | VerificationReport:
    try:
        return _read_whole(name)
    except OSError as exc:
        return _unreadable(name, exc)


def _unreadable(name: str, exc: OSError) -> VerificationReport:
    from credreg.verify import verify_offline

    report = verify_offline(b"")
    return report.model_copy(
        update={"summary": f"cannot read {name}: {exc.strerror or exc}", "code": "unreadable"}
    )


def _read_whole(name: str) -> bytes:
    """The file's bytes, with the fewest calls (no file object): `open(…).readall()` cost twice as much."""
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)  # one more byte: a file that grew is read to its end below
        if len(data) <= size:
            return data
        parts = [data]
        while part := os.read(fd, 1 << 20):
            parts.append(part)
        return b"".join(parts)
    finally:
        os.close(fd)


_COLOURS = {"valid": "green", "invalid": "red", "error": "yellow", "skipped": "dim"}
_ORDER = {"invalid": 0, "error": 1, "valid": 2}  # by Outcome, a str enum
DETAIL_UP_TO = 10  # files: beyond this many, valid ones get one line each


def _print_reports(
    files: list[str],
    reports: Sequence[VerificationReport | _Brief],
    skipped: list[str],
    show: Callable[[int], str],
    tally: _Tally,
) -> None:
    """Invalid files first, then errors, then valid ones; skipped summaries; a tally when there are many."""
    from credreg.verify import Outcome

    ordered = sorted(zip(files, reports, strict=True), key=lambda pair: _ORDER[pair[1].verdict])
    as_text = not console.is_terminal  # asked once: it costs microseconds, and there may be 100,000 files
    lines: list[str] = []
    for path, report in ordered:
        if isinstance(report, _Brief):
            lines.append(report.text)
            continue
        detail = report.verdict is not Outcome.VALID or len(files) <= DETAIL_UP_TO
        _print_report(path, report, detail=detail, show=show, as_text=as_text, lines=lines)
    _write_lines(lines)
    for path in skipped:
        console.print(
            f"[dim]跳过 / skipped[/] {path}: 批次汇总文件，不是证书 / a batch summary, not a certificate"
        )
    if len(files) + len(skipped) > 1:
        _print_tally(tally, len(skipped))


def _write_lines(lines: list[str]) -> None:
    """Plain lines held back by `_print_report`, written at once (and the list emptied)."""
    if lines:
        sys.stdout.write("".join(lines))
        lines.clear()


def _print_report(
    path: str,
    report: VerificationReport,
    *,
    detail: bool,
    show: Callable[[int], str],
    as_text: bool | None = None,
    lines: list[str] | None = None,
) -> None:
    """One file's report. With `lines`, a plain line is added to it, to be written with the others by
    `_write_lines` (one write for a batch, not one a file); the list is written first if rich prints."""
    from credreg.verify import reason_in_zone

    # One line per file. Where no one sees colours it is written as plain text: rich's rendering cost
    # 78 µs a line, plain text 0.3 µs, against under 100 µs to verify a document.
    if not detail and not report.notes and (not console.is_terminal if as_text is None else as_text):
        if lines is None:
            sys.stdout.write(_plain_line(path, report))
        else:
            lines.append(_plain_line(path, report))
        return
    if lines:
        _write_lines(lines)
    colour = _COLOURS[report.verdict.value]
    console.print(
        f"[bold {colour}]{report.verdict.value.upper()}[/] {escape(str(path))}: {escape(_said(report))}"
    )
    for note in report.notes:
        console.print(f"  [bold yellow]注意 / note:[/] {escape(note.zh)} / {escape(note.en)}")
    if not detail:
        return
    # Columns aligned by hand, as a borderless table lays them out: rich's Table module alone took 15 to 38 ms
    # to import, a tenth of `credreg verify one.json`.
    status_width = max(len(step.status.value) for step in report.steps)
    name_width = max(len(step.name) for step in report.steps)
    for step in report.steps:
        status = step.status.value
        console.print(
            f" [{_COLOURS[status]}]{status}[/]{' ' * (status_width - len(status))}  {step.name:<{name_width}}  "
            f"{escape(reason_in_zone(step.reason, show))}"
        )
    if report.agency:
        state_words = AGENCY_STATES.get(report.agency.state)
        standing = f"{state_words.zh} {report.agency.state}" if state_words else report.agency.state
        console.print(
            f"  评价机构 / agency: {escape(report.agency.name)} ({report.agency.registration_code}), {standing}"
        )
    if report.scope:
        level = level_words(report.scope.level, report.kind or "skill_level")
        console.print(
            f"  职业范围 / scope: {report.scope.occupation_code}/{report.scope.level} {level.zh}, "
            f"{escape(report.scope.title)}"
        )
    if report.hidden_fields:
        shown = ", ".join(f"{field_words(f).zh} ({f})" for f in report.hidden_fields)
        console.print(f"  持证人隐藏的字段 / hidden by the holder: {shown}")


def _said(report: VerificationReport) -> str:
    """The verdict's words: Chinese (where the label table has them) and English."""
    words = VERDICTS.get(report.code)
    return f"{words.zh} / {report.summary}" if words else report.summary


def _plain_line(path: str, report: VerificationReport) -> str:
    """A report in one line of plain text, as written where no one sees colours."""
    return f"{report.verdict.value.upper()} {path}: {_said(report)}\n"


class _Brief(NamedTuple):
    """A report that is only ever shown as one text (its plain line, or its --json element), and counted:
    what a process verifying a part of the files (`_verify_files_in_parts`) hands back instead of the whole
    report."""

    verdict: Outcome
    code: str
    checked_block: int | None
    text: str


def _print_tally(tally: _Tally, skipped: int) -> None:
    console.print(
        f"合计 / total {tally.total}: [green]有效 / valid {tally.valid}[/], "
        f"[red]无效 / invalid {sum(tally.invalid.values())}[/], [yellow]错误 / errors {tally.errors}[/]"
        + (f", 跳过 / skipped {skipped}" if skipped else "")
    )
    for code, count in tally.invalid.most_common():
        words = VERDICTS.get(code)
        console.print(f"  {count:>6}  {code}" + (f"  {words.zh} / {words.en}" if words else ""))


class _Tally:
    """What a run's summary and exit code need: counts by verdict, invalid ones by reason, blocks checked at."""

    def __init__(self) -> None:
        self.total = self.valid = self.errors = 0
        self.invalid: Counter[str] = Counter()
        self.blocks: tuple[int, int] | None = None  # the lowest and highest block a verdict was read at

    @classmethod
    def of(cls, reports: Sequence[VerificationReport | _Brief]) -> _Tally:
        tally = cls()
        for report in reports:
            tally.add(report)
        return tally

    def add(self, report: VerificationReport | _Brief) -> None:
        from credreg.verify import Outcome

        self.total += 1
        if report.verdict is Outcome.VALID:
            self.valid += 1
        elif report.verdict is Outcome.ERROR:
            self.errors += 1
        else:
            self.invalid[report.code] += 1
        block = report.checked_block
        if block is not None:
            low, high = self.blocks or (block, block)
            self.blocks = (min(low, block), max(high, block))

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 1 if self.invalid else 0


def _verify_streaming(
    batches: Iterator[list[Pair]],
    check: Callable[[list[bytes | VerificationReport], int], list[VerificationReport]],
    skipped: list[str],
    show: Callable[[int], str],
    *,
    as_json: bool,
) -> _Tally:
    """A run of more than one batch: each report printed as its batch is done, in the order read (with
    --json, the same array as a shorter run's, written element by element); invalid and erroneous ones in
    full, valid ones one line each. After the last batch: the skipped summaries, the first `REVIEW_UP_TO`
    invalid or erroneous ones named again, and the tally with the block(s) the ledger was read at."""
    from credreg.verify import Outcome

    tally = _Tally()
    review: list[tuple[str, VerificationReport]] = []
    array = _JsonArray() if as_json else None
    as_text = not console.is_terminal
    lines: list[str] = []
    for batch in batches:
        reports = check([raw for _, raw in batch], tally.total)
        for (path, _), report in zip(batch, reports, strict=True):
            tally.add(report)
            if report.verdict is not Outcome.VALID and len(review) < REVIEW_UP_TO:
                review.append((path, report.model_copy(update={"steps": [], "notes": []})))
            if array is not None:
                array.add({"file": path, **report.model_dump(mode="json")})
            else:
                valid = report.verdict is Outcome.VALID
                _print_report(path, report, detail=not valid, show=show, as_text=as_text, lines=lines)
        _write_lines(lines)
        del batch, reports  # before the next batch is read
    if array is not None:
        for path in skipped:
            array.add({"file": path, "verdict": "skipped", "code": "batch-summary"})
        array.close()
        return tally
    for path in skipped:
        console.print(
            f"[dim]跳过 / skipped[/] {path}: 批次汇总文件，不是证书 / a batch summary, not a certificate"
        )
    flagged = tally.total - tally.valid
    if flagged:
        console.print(
            f"[bold]需处理 / to look at[/]: 无效或错误 {flagged} 个，详见上文"
            + (f"，以下为前 {len(review)} 个" if flagged > len(review) else "")
            + f" / {flagged} invalid or in error, in full above"
            + (f"; the first {len(review)}:" if flagged > len(review) else ":")
        )
        for path, report in review:
            words = VERDICTS.get(report.code)
            plain = f"{words.zh} / {report.summary}" if words else report.summary
            colour = _COLOURS[report.verdict.value]
            console.print(
                f"  [{colour}]{report.verdict.value.upper()}[/] {escape(str(path))}: {escape(plain)}"
            )
    _print_tally(tally, len(skipped))
    if tally.blocks is not None:
        low, high = tally.blocks
        console.print(
            f"账本区块 / ledger block {low}"
            if low == high
            else f"账本区块 / ledger blocks {low}–{high}（每批 {VERIFY_BATCH:,} 个读于同一区块 / each batch of "
            f"{VERIFY_BATCH:,} read at one block)"
        )
    return tally


class _JsonArray:
    """A JSON array written to stdout element by element, exactly as `print_json` writes the whole list."""

    def __init__(self) -> None:
        self.count = 0

    @staticmethod
    def element(value: Any) -> str:
        """`value` as `add` writes it (as `print_json` would, inside the array)."""
        return json.dumps(value, indent=2, ensure_ascii=False, default=str).replace("\n", "\n  ")

    def add(self, value: Any) -> None:
        self.add_element(self.element(value))

    def add_element(self, text: str) -> None:
        sys.stdout.write(("[\n  " if self.count == 0 else ",\n  ") + text)
        self.count += 1

    def close(self) -> None:
        sys.stdout.write("\n]\n" if self.count else "[]\n")
