"""Issuing a batch of certificates: all or nothing, resumable after a crash at any point.

    results file ──read──▶ certificates ──wrap──▶ documents + merkle root ──journal──▶ sign ──▶ relay
        ──confirmed──▶ one JSON file per document + a batch summary ──▶ journal removed

The journal (`<out>/.credreg-journal/<batch id>.jsonl`) holds the wrapped documents, salts included, before
anything is sent, so a retry after a crash re-uses the same root instead of minting a second one. The batch
id is a hash of the input file and what it is issued under; running the same command again finishes an
interrupted batch, or says it is already done. Documents are written only once the root is confirmed on the
ledger, and the summary file, written last, marks the batch complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel

from credreg.chain.manifest import write_atomically
from credreg.documents.canonical import unsalt_value
from credreg.documents.layout import AnyCertificate, batch_key, wrap_certificates
from credreg.documents.model import AgencyRef, expiry_timestamp
from credreg.documents.results import (
    VALID_UNTIL_HORIZON_YEARS,
    IssueContext,
    ResultsFormat,
    read_results,
)
from credreg.documents.wrap import WrappedDocument, dump_document
from credreg.errors import ConfigError, ContractRevert, DocumentError, ResultsFileError
from credreg.registry import AgencyState, Registry, Relayer, SignedIssue

JOURNAL_DIR = ".credreg-journal"
Progress = Callable[[str, int, int], None]
#: Sends a signed issuance with its batch's leaves and returns (transaction hash, block) once it is on the
#: ledger; the default relays it straight from the relayer key, `credreg issue --service` hands it to a service.
Submit = Callable[[SignedIssue, list[str]], tuple[str | None, int | None]]


class BatchSummary(BaseModel):
    """What a completed batch recorded, written as `<out>/batch-<root>.json`."""

    batch_id: str
    root: str
    chain_id: int
    registry: str
    agency_id: int
    scope_id: str
    valid_until: int
    signer: str
    transaction_hash: str | None
    block_number: int | None
    issued_at: int
    count: int
    files: list[str]
    # The batch's leaves (document target hashes), so a service can be told them (`credreg batch upload`);
    # summaries written before they were kept have none, and the upload reads them from the documents.
    leaves: list[str] = []


@dataclass(frozen=True)
class IssueOutcome:
    summary: BatchSummary
    resumed: bool
    already_done: bool


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def batch_id_of(data: bytes, registry: Registry, agency_id: int, identity_location: str) -> str:
    h = hashlib.sha256()
    for part in (registry.address, str(registry.domain.chain_id), str(agency_id), identity_location):
        h.update(part.encode() + b"\0")
    h.update(data)
    return h.hexdigest()[:32]


def safe_file_name(certificate_number: str) -> str:
    """A file name for a certificate number that cannot escape the output directory."""
    cleaned = re.sub(r"[^0-9A-Za-z._-]+", "_", certificate_number).strip("._") or "certificate"
    return cleaned[:120] + ".json"


_STATE_ZH = {"SUSPENDED": "处于暂停状态", "REVOKED": "已被撤销", "NONE": "未登记"}


def signer_agency(registry: Registry, signer: LocalAccount) -> AgencyRef:
    """The agency `signer` belongs to, refusing early what the contract would refuse anyway."""
    info = registry.signer(signer.address)
    if info.agency_id == 0:
        raise ConfigError(
            f"密钥 {signer.address} 不是任何评价机构的签名密钥 / key {signer.address} is not a signer of any "
            f"agency on this registry"
        )
    agency = registry.agency(info.agency_id)
    if agency.state is not AgencyState.ACTIVE:
        raise ConfigError(
            f"评价机构 {agency.agency_id}（{agency.name}）目前{_STATE_ZH.get(agency.state.name, '')}，不能颁发证书 / "
            f"agency {agency.agency_id} ({agency.name}) is {agency.state.name.lower()}: it cannot issue"
        )
    return AgencyRef(id=agency.agency_id, name=agency.name)


def issue_results_file(
    registry: Registry,
    signer: LocalAccount,
    relayer: LocalAccount,
    results: Path,
    out_dir: Path,
    *,
    identity_location: str,
    file_format: ResultsFormat | None = None,
    progress: Progress = _no_progress,
    confirmations: int = 0,
    batches_dir: Path | None = None,
    submit: Submit | None = None,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
) -> IssueOutcome:
    """Issue every certificate of `results` as one batch and write the documents under `out_dir`.

    `submit`, if given, records the signed issuance instead of sending it from `relayer` (the CLI hands it
    to a credreg service with the batch's leaves, so that the service can publish their status).

    `batches_dir` (the CLI uses `<data dir>/batches`) remembers which output directory each batch went to,
    so that the same file issued again into another directory is refused instead of minting a second root.
    """
    try:
        data = results.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read results file {results}: {exc.strerror or exc}") from exc
    agency = signer_agency(registry, signer)
    batch_id = batch_id_of(data, registry, agency.id, identity_location)
    if batches_dir is not None:
        _claim(batches_dir / f"{batch_id}.json", out_dir, results)
    done = _completed(out_dir, batch_id)
    if done is not None:
        return IssueOutcome(done, resumed=False, already_done=True)
    journal = out_dir / JOURNAL_DIR / f"{batch_id}.jsonl"
    resumed = journal.exists()
    if resumed:
        documents = _read_journal(journal)
        progress("journal", len(documents), len(documents))
    else:
        context = IssueContext(agency=agency, chain_id=registry.domain.chain_id, registry=registry.address)
        try:
            certificates = read_results(
                io.BytesIO(data),
                context=context,
                file_format=file_format or _format_of(results),
                horizon_years=horizon_years,
            )
        except ResultsFileError as exc:  # read from memory, so the file is named here
            raise ResultsFileError(str(results), list(exc.problems), exc.total) from None
        progress("read", len(certificates), len(certificates))
        documents = _wrap(certificates, identity_location)
        progress("wrap", len(documents), len(documents))
        try:
            _write_journal(journal, documents)
        except OSError as exc:
            raise ConfigError(
                f"无法在 {out_dir} 下写入颁发日志，未颁发任何证书 / cannot write the issuance journal under {out_dir}: "
                f"{exc.strerror or exc}; nothing was issued"
            ) from exc
    return _record_and_write(
        registry, signer, relayer, documents, out_dir, batch_id, journal, resumed, progress, confirmations,
        submit,
    )  # fmt: skip


def _claim(marker: Path, out_dir: Path, results: Path) -> None:
    """Tie this batch to `out_dir`, or refuse if it is tied to another directory already."""
    here = str(out_dir.resolve())
    if marker.exists():
        try:
            claimed = json.loads(marker.read_text(encoding="utf-8"))["out_dir"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read the batch record {marker}: {exc}") from exc
        if claimed != here:
            raise ConfigError(
                f"{results} 已颁发（或已开始颁发）到 {claimed}，请用 --out {claimed} 重新运行以完成或核对 / "
                f"{results} was already issued, or started, into {claimed}; run the command with --out "
                f"{claimed} to finish or check it (issuing it again elsewhere would record the same "
                f"certificates twice)"
            )
        return
    try:
        write_atomically(marker, json.dumps({"out_dir": here, "results": str(results.resolve())}) + "\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the batch record {marker}: {exc.strerror or exc}; nothing was issued"
        ) from exc


def _format_of(path: Path) -> ResultsFormat | None:
    suffix = path.suffix.lower()
    return "csv" if suffix == ".csv" else "jsonl" if suffix in (".jsonl", ".ndjson") else None


def _wrap(certificates: Sequence[AnyCertificate], identity_location: str) -> list[WrappedDocument]:
    keys = {batch_key(c) for c in certificates}
    if len(keys) > 1:
        raise DocumentError(
            f"一个成绩文件对应一次考核：每行的职业编码、等级和有效期须相同，此文件混有 {len(keys)} 种组合 / "
            "one results file is one assessment session: every row needs the same occupation code, level "
            f"and valid-until date, but this file mixes {len(keys)} combinations"
        )
    return wrap_certificates(certificates, identity_location=identity_location)


def _write_journal(path: Path, documents: Sequence[WrappedDocument]) -> None:
    write_atomically(path, "".join(dump_document(d, indent=None) + "\n" for d in documents))


def _read_journal(path: Path) -> list[WrappedDocument]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _completed(out_dir: Path, batch_id: str) -> BatchSummary | None:
    for summary_path in out_dir.glob("batch-*.json"):
        try:
            summary = BatchSummary.model_validate_json(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if summary.batch_id == batch_id:
            return summary
    return None


def _record_and_write(
    registry: Registry,
    signer: LocalAccount,
    relayer: LocalAccount,
    documents: Sequence[WrappedDocument],
    out_dir: Path,
    batch_id: str,
    journal: Path,
    resumed: bool,
    progress: Progress,
    confirmations: int,
    submit: Submit | None = None,
) -> IssueOutcome:
    first = documents[0]
    leaves = ["0x" + d["signature"]["targetHash"] for d in documents]
    root = "0x" + first["signature"]["merkleRoot"]
    credreg_data = first["data"]["credreg"]
    scope_id = str(unsalt_value(credreg_data["scopeId"]))
    valid_until_text = unsalt_value(credreg_data["validUntil"])
    valid_until = expiry_timestamp(date.fromisoformat(str(valid_until_text)) if valid_until_text else None)
    agency_id = int(str(unsalt_value(credreg_data["agencyId"])))
    signer_agency_id = signer_agency(registry, signer).id
    if signer_agency_id != agency_id:
        raise DocumentError(
            f"这批证书是为机构 {agency_id} 准备的，而签名密钥 {signer.address} 属于机构 {signer_agency_id}；"
            f"请用机构 {agency_id} 的密钥签名 / the batch was prepared for agency {agency_id}, but the signer key "
            f"{signer.address} belongs to agency {signer_agency_id}; sign with a key of agency {agency_id}"
        )
    tx_hash: str | None = None
    block: int | None = None
    record = registry.record(agency_id, root)
    if not record.issued:
        signed: SignedIssue = registry.sign_issue(signer, registry.issue_request(root, scope_id, valid_until))
        try:
            if submit is not None:
                tx_hash, block = submit(signed, leaves)
            else:
                receipt = Relayer(registry, relayer, confirmations).issue(signed)
                tx_hash, block = receipt["transactionHash"].to_0x_hex(), int(receipt["blockNumber"])
        except ContractRevert as exc:
            if exc.name != "CredentialRegistryAlreadyIssued":
                raise
        record = registry.record(agency_id, root)
    if record.scope_id.lower() != scope_id.lower():
        raise DocumentError(f"root {root} is on the ledger under another scope; this batch cannot be used")
    progress("recorded", 1, 1)
    try:
        files = _write_documents(out_dir, documents, progress)
    except OSError as exc:
        raise ConfigError(
            f"批次 {root} 已上链，但证书文件写入 {out_dir} 失败，请排除后重新运行同一命令写出文件 / "
            f"batch {root} is recorded on the ledger, but writing its documents to {out_dir} failed "
            f"({exc.strerror or exc}); fix that and run the same command again to write them"
        ) from exc
    summary = BatchSummary(
        batch_id=batch_id,
        root=root,
        chain_id=registry.domain.chain_id,
        registry=registry.address,
        agency_id=record.agency_id,
        scope_id=record.scope_id,
        valid_until=record.valid_until,
        signer=record.signer,
        transaction_hash=tx_hash,
        block_number=block,
        issued_at=record.issued_at,
        count=len(documents),
        files=files,
        leaves=leaves,
    )
    # The summary marks the batch complete, so every document must be on disk before it: one sync of
    # the filesystem costs far less than flushing 10,000 files one by one.
    os.sync()
    try:
        write_atomically(out_dir / f"batch-{root[2:18]}.json", summary.model_dump_json(indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(
            f"batch {root} is recorded and its documents are in {out_dir}, but its summary could not be "
            f"written ({exc.strerror or exc}); fix that and run the same command again"
        ) from exc
    journal.unlink(missing_ok=True)
    return IssueOutcome(summary, resumed=resumed, already_done=False)


# Documents are written in place: no temporary file and rename each. The journal keeps every document until
# the summary, written last, marks the batch complete, and re-running the command rewrites every file from
# the journal, so a file a crash cut short is made whole again. Compact JSON goes through Python's C encoder
# (an indented dump takes the pure-Python one, which cost more than all the hashing), and each file is three
# system calls.
_WRITE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _write_documents(out_dir: Path, documents: Sequence[WrappedDocument], progress: Progress) -> list[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    used: set[str] = set()
    total = len(documents)
    directory = os.open(out_dir, os.O_RDONLY)
    try:
        for i, document in enumerate(documents):
            number = str(unsalt_value(document["data"]["id"]))
            name = safe_file_name(number)
            if name in used:  # two numbers that differ only in characters a file name cannot hold
                name = name[:-5] + f"-{document['signature']['targetHash'][:8]}.json"
            used.add(name)
            data = (dump_document(document, indent=None) + "\n").encode()
            fd = os.open(name, _WRITE_FLAGS, 0o644, dir_fd=directory)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            names.append(name)
            if (i + 1) % 500 == 0 or i + 1 == total:
                progress("write", i + 1, total)
        os.fsync(directory)
    finally:
        os.close(directory)
    return names


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # a regular file takes it all at once, but the call may legally write less
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(f"could not write {len(view)} more bytes")
        view = view[written:]


@dataclass(frozen=True)
class IssuePreview:
    """What `issue_results_file` would record, shown to a person before anything is sent."""

    agency_id: int
    agency_name: str
    signer: str
    kind: str
    occupation_code: str
    level: int
    scope_id: str
    scope_title: str | None  # as the ledger defines it; None when the scope is not defined there
    accredited: bool
    accredited_from: int
    accredited_until: int
    count: int
    valid_until: int  # on-chain seconds, 0 for no end
    valid_until_date: date | None


def preview_results_file(
    registry: Registry,
    signer: LocalAccount,
    results: Path,
    *,
    file_format: ResultsFormat | None = None,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
) -> IssuePreview:
    """Read `results` the way `issue_results_file` does and say under which agency and scope it would issue."""
    try:
        data = results.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read results file {results}: {exc.strerror or exc}") from exc
    agency = signer_agency(registry, signer)
    context = IssueContext(agency=agency, chain_id=registry.domain.chain_id, registry=registry.address)
    try:
        certificates = read_results(
            io.BytesIO(data),
            context=context,
            file_format=file_format or _format_of(results),
            horizon_years=horizon_years,
        )
    except ResultsFileError as exc:
        raise ResultsFileError(str(results), list(exc.problems), exc.total) from None
    if len({batch_key(c) for c in certificates}) > 1:
        _wrap(certificates, "")  # raises the mixed-session error, word for word
    first = certificates[0]
    scope = registry.scope(first.scope_id)
    window = registry.accreditation(agency.id, first.scope_id)
    return IssuePreview(
        agency_id=agency.id,
        agency_name=agency.name,
        signer=signer.address,
        kind=first.kind,
        occupation_code=first.occupation_code,
        level=first.level,
        scope_id=first.scope_id,
        scope_title=scope.title if scope.index else None,
        accredited=bool(window.scope_index),
        accredited_from=window.valid_from if window.scope_index else 0,
        accredited_until=window.valid_until if window.scope_index else 0,
        count=len(certificates),
        valid_until=expiry_timestamp(first.valid_until),
        valid_until_date=first.valid_until,
    )
