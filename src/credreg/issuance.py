"""Issuing a batch of certificates: all or nothing, resumable after a crash at any point, in bounded memory.

    results file ──read, salt, hash──▶ journal (one line a document, up to its proof) + 32 bytes a leaf
        ──merkle tree──▶ root ──sign──▶ relay ──confirmed──▶ one JSON file per document and/or one
        archive (JSON lines) ──▶ batch summary ──▶ journal removed

Issuing runs in two passes so that memory does not grow with the batch: the first streams the results
file, salts and hashes each certificate and appends its document, without its proof, to the journal
(`<out>/.credreg-journal/<batch id>.spool`), keeping only its 32-byte target hash; the second, once the
root is on the ledger, streams the journal again and completes each document with its proof from the
packed tree. A batch of 1,000,000 certificates peaks under 200 MB (docs/scale.md).

A large batch uses two cores: the first pass reads the file's two halves at once, the second half in a
forked child that journals it as `<batch id>.spool.2` (`_first_pass_in_two`; a problem in the rows is said
by one pass over the whole file, as on one core), and the second pass hands the finished documents to a
forked child that creates the files (`_FileWriter`) while this process completes the next ones.

What holds after a crash, of the process or of the machine: the journal (both spool files, the leaves, then
the state, each synced) is on disk before anything is signed or sent. The document files are written in
place, without a sync each; one sync of the filesystem comes after the last of them and before the summary,
itself written to a temporary file, synced and renamed. Until the summary is on disk the journal is whole,
and the same command writes every document again under the same root; once it is, every document was
synced before it. A child still running when this process dies writes what it was given and stops.

`--dry-run` (`dry_run_results_file`) runs the first pass with a spool that keeps nothing and builds the
tree in memory, so it checks, salts and hashes exactly as issuing does; it writes and sends nothing. Asked
of a batch issued before, the forms it lacks are written from its own documents (`add_forms`): the archive
from its files, or its files from its archive, each checked against the summary's root and leaves.

The journal's state file (`<batch id>.json`, written once the journal is whole and before anything is
sent) names the root, so a retry after a crash re-uses the same root instead of minting a second one; a
crash before it is written leaves nothing to re-use, and the first pass runs again. The batch id is a hash
of the input file and what it is issued under; running the same command again finishes an interrupted
batch, or says it is already done. Documents are written only once the root is confirmed on the ledger,
every one of them again on a resumed run, and the summary file, written last, marks the batch complete.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import itertools
import json
import os
import pickle
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, cast, overload

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel

from credreg.chain.manifest import write_atomically
from credreg.documents.canonical import unsalt_value
from credreg.documents.layout import AnyCertificate, BatchKey, batch_key, certificate_to_data
from credreg.documents.merkle import MerkleTree, build_tree
from credreg.documents.model import AgencyRef, CertificateKind, expiry_timestamp
from credreg.documents.results import (
    VALID_UNTIL_HORIZON_YEARS,
    IssueContext,
    ResultsFormat,
    iter_results,
)
from credreg.documents.wrap import OA_V2_SCHEMA, BatchWrapper, dump_document, finish_document
from credreg.errors import ConfigError, ContractRevert, DocumentError, ResultsFileError, UnhashableValue
from credreg.machine import usable_cores
from credreg.registry import AgencyState, Registry, Relayer, SignedIssue

JOURNAL_DIR = ".credreg-journal"
Progress = Callable[[str, int, int], None]
#: Sends a signed issuance with its batch's leaves and returns (transaction hash, block) once it is on the
#: ledger; the default relays it straight from the relayer key, `credreg issue --service` hands it to a service.
Submit = Callable[[SignedIssue, list[str]], tuple[str | None, int | None]]
_LEAF = 32
_PROGRESS_EVERY = 5_000


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
    # The batch's documents as one JSON-lines file in the same directory (`credreg issue --archive`).
    archive: str | None = None
    files: Sequence[str]
    # The batch's leaves (document target hashes), so a service can be told them (`credreg batch upload`);
    # summaries written before they were kept have none, and the upload reads them from the documents.
    leaves: Sequence[str] = []


@dataclass(frozen=True)
class IssueOutcome:
    summary: BatchSummary
    resumed: bool
    already_done: bool
    # Of a batch issued before: the forms asked for now that it lacked, written from its documents
    # ("archive", "files"); nothing is sent to the ledger for them.
    added: tuple[str, ...] = ()


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def batch_id_of(data: bytes, registry: Registry, agency_id: int, identity_location: str) -> str:
    h = _batch_hash(registry, agency_id, identity_location)
    h.update(data)
    return str(h.hexdigest()[:32])


def _batch_hash(registry: Registry, agency_id: int, identity_location: str) -> Any:
    h = hashlib.sha256()
    for part in (registry.address, str(registry.domain.chain_id), str(agency_id), identity_location):
        h.update(part.encode() + b"\0")
    return h


def _file_batch_id(results: Path, registry: Registry, agency_id: int, identity_location: str) -> str:
    """`batch_id_of` the file's content, read in blocks."""
    h = _batch_hash(registry, agency_id, identity_location)
    try:
        with results.open("rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    except OSError as exc:
        raise DocumentError(f"cannot read results file {results}: {exc.strerror or exc}") from exc
    return str(h.hexdigest()[:32])


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
    files: bool = True,
    archive: bool = False,
    confirm: Callable[[IssuePreview], None] | None = None,
) -> IssueOutcome:
    """Issue every certificate of `results` as one batch and write the documents under `out_dir`.

    `files` writes one JSON file per document (named after its certificate number), `archive` one JSON-lines
    file of them all, `batch-<root>.jsonl` (`credreg verify` and `credreg disclose` read it); at least one.

    `submit`, if given, records the signed issuance instead of sending it from `relayer` (the CLI hands it
    to a credreg service with the batch's leaves, so that the service can publish their status).

    `batches_dir` (the CLI uses `<data dir>/batches`) remembers which output directory each batch went to,
    so that the same file issued again into another directory is refused instead of minting a second root.

    `confirm`, if given, is shown what would be issued once the file is read, before anything is signed or
    sent; it raises to stop, and then nothing of a batch not started before is left behind. Reading the
    file once serves both (the CLI asks a person there).
    """
    if not files and not archive:
        raise ConfigError("nothing to write: ask for the document files, the archive, or both")
    agency = signer_agency(registry, signer)
    batch_id = _file_batch_id(results, registry, agency.id, identity_location)
    marker = batches_dir / f"{batch_id}.json" if batches_dir is not None else None
    claimed = marker is not None and _claim(marker, out_dir, results)
    journal = Journal(out_dir / JOURNAL_DIR, batch_id)
    created = [d for d in (out_dir, journal.directory) if not d.exists()]
    done = _completed(out_dir, batch_id)
    if done is not None:
        journal.remove()  # left behind if a crash came between the summary and the clean-up
        done, added = add_forms(out_dir, done, files=files, archive=archive, progress=progress)
        return IssueOutcome(done, resumed=False, already_done=True, added=added)
    state = journal.state()
    resumed = state is not None
    if state is None:
        context = IssueContext(agency=agency, chain_id=registry.domain.chain_id, registry=registry.address)
        state = prepare_batch(
            results, journal, context, _batch_hash(registry, agency.id, identity_location), identity_location,
            file_format or _format_of(results), horizon_years, progress,
        )  # fmt: skip
    else:
        progress("journal", state.count, state.count)
    if confirm is not None:
        try:
            confirm(_preview_of(registry, signer, state))
        except BaseException:
            if not resumed:
                _undo(journal, created)
                if claimed and marker is not None:
                    marker.unlink(missing_ok=True)
            raise
    tree, positions = build_tree(journal.leaves())
    if "0x" + tree.root.hex() != state.root:
        raise ConfigError(
            f"the issuance journal {journal.state_path} does not add up to the root it names ({state.root}); "
            "it was changed or damaged: restore it, or remove the journal to start the batch afresh"
        )
    progress("wrap", state.count, state.count)
    return _record_and_write(
        registry, signer, relayer, state, tree, positions, journal, out_dir, resumed, progress,
        confirmations, submit, files, archive,
    )  # fmt: skip


def _claim(marker: Path, out_dir: Path, results: Path) -> bool:
    """Tie this batch to `out_dir`, or refuse if it is tied to another directory already; whether the tie
    is new."""
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
        return False
    try:
        write_atomically(marker, json.dumps({"out_dir": here, "results": str(results.resolve())}) + "\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the batch record {marker}: {exc.strerror or exc}; nothing was issued"
        ) from exc
    return True


def _format_of(path: Path) -> ResultsFormat | None:
    suffix = path.suffix.lower()
    return "csv" if suffix == ".csv" else "jsonl" if suffix in (".jsonl", ".ndjson") else None


def _mixed_sessions(count: int) -> DocumentError:
    return DocumentError(
        f"一个成绩文件对应一次考核：每行的职业编码、等级和有效期须相同，此文件混有 {count} 种组合 / "
        "one results file is one assessment session: every row needs the same occupation code, level "
        f"and valid-until date, but this file mixes {count} combinations"
    )


# --- the journal -----------------------------------------------------------------------------------------


class BatchState(BaseModel):
    """What the first pass found, written once the journal is whole: the journal's root and what the
    ledger records with it."""

    batch_id: str
    root: str
    count: int
    agency_id: int
    scope_id: str
    valid_until: int  # on-chain seconds, 0 for no end
    # What the preview shows a person before anything is sent.
    kind: CertificateKind
    occupation_code: str
    level: int
    valid_until_date: date | None
    # Rows (from 0) whose file name an earlier row's certificate number already gives: their files get
    # the target hash's first 8 digits as a suffix.
    renamed: list[int] = []


class Journal:
    """One batch's files under `<out>/.credreg-journal/`.

    - ``<id>.spool``: a line per document in results-file order, ``<file name> TAB <document JSON up to
      its proof>`` (``.spool.part`` while the first pass writes it);
    - ``<id>.leaves``: the documents' target hashes, 32 bytes each, in the same order;
    - ``<id>.json``: the `BatchState`, written last: without it, the other two are not whole.
    """

    def __init__(self, directory: Path, batch_id: str) -> None:
        self.directory = directory
        self.batch_id = batch_id
        self.spool_path = directory / f"{batch_id}.spool"
        self.leaves_path = directory / f"{batch_id}.leaves"
        self.state_path = directory / f"{batch_id}.json"
        # The second half's documents, when two processes read the file (see `_first_pass_in_two`).
        self.spool_tail_path = directory / f"{batch_id}.spool.2"
        self.spool_tail_part = directory / f"{batch_id}.spool.2.part"
        self.files_path = directory / f"{batch_id}.files"  # the files' names, while they are written
        self.legacy_path = directory / f"{batch_id}.jsonl"  # whole documents, as earlier versions kept them

    def state(self) -> BatchState | None:
        if self.legacy_path.exists() and not self.state_path.exists():
            _convert_legacy_journal(self)
        try:
            return BatchState.model_validate_json(self.state_path.read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            return None  # no journal: the first pass says so if the directory cannot hold one
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the issuance journal {self.state_path}: {exc}") from exc

    def leaves(self) -> bytes:
        try:
            return self.leaves_path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the issuance journal {self.leaves_path}: {exc}") from exc

    def hex_leaves(self) -> Iterator[str]:
        """The leaves as 0x-hex, in order, read from the file as iterated."""
        with self.leaves_path.open("rb") as fh:
            while leaf := fh.read(_LEAF):
                yield "0x" + leaf.hex()

    def lines(self) -> Iterator[tuple[str, bytes]]:
        """(file name, document head) of each document, in order."""
        for path in (self.spool_path, self.spool_tail_path):
            if path is self.spool_tail_path and not path.exists():
                return
            with path.open("rb") as fh:
                for line in fh:
                    name, _, head = line.rstrip(b"\n").partition(b"\t")
                    yield name.decode(), head

    def remove(self) -> None:
        if not self.directory.is_dir():
            return
        part = self.directory / f"{self.batch_id}.spool.part"
        for path in (
            self.state_path,
            self.spool_path,
            self.spool_tail_path,
            self.spool_tail_part,
            self.leaves_path,
            self.files_path,
            self.legacy_path,
            part,
        ):
            path.unlink(missing_ok=True)


def prepare_batch(
    results: Path,
    journal: Journal,
    context: IssueContext,
    batch_hash: Any,
    identity_location: str,
    file_format: ResultsFormat | None,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
    progress: Progress = _no_progress,
) -> BatchState:
    """The first pass: read, check, salt and hash every row into the journal; returns its state.

    Nothing is kept per certificate but its 32-byte target hash and 20 bytes for finding repeated file
    names. Raises `ResultsFileError` (nothing written) if any row is broken, `DocumentError` if the rows
    are not one session.
    """
    created = [d for d in (journal.directory.parent, journal.directory) if not d.exists()]
    try:
        journal.directory.mkdir(parents=True, exist_ok=True)
        part = journal.directory / f"{journal.batch_id}.spool.part"
        for stale in (journal.spool_tail_part, journal.spool_tail_path):
            stale.unlink(missing_ok=True)
        cut = _split_point(results, file_format)
        with results.open("rb") as raw, part.open("wb") as spool:
            whole = batch_hash.copy()
            split = None
            if cut is not None:
                split = _first_pass_in_two(
                    results, journal, spool, raw, whole, cut, context, identity_location, file_format,
                    horizon_years, progress,
                )  # fmt: skip
            leaves: Sequence[bytes | bytearray]
            if split is not None:
                leaves, state = split
                batch_hash, split = whole, None  # `leaves` holds the only reference: `del` below frees it
            else:  # one pass over the whole file, as on one core
                journal.spool_tail_part.unlink(missing_ok=True)
                raw.seek(0)
                spool.seek(0)
                spool.truncate()
                reader = _HashingReader(raw, batch_hash)
                whole_leaves, state = _first_pass(
                    io.BufferedReader(reader, 1 << 16), results, spool, context, identity_location,
                    file_format, horizon_years, progress,
                )  # fmt: skip
                leaves = [whole_leaves]
                del whole_leaves
                reader.read()  # whatever the parser left, so that the digest covers the whole file
            if batch_hash.hexdigest()[:32] != journal.batch_id:
                raise DocumentError(f"{results} changed while it was read; run the command again")
            spool.flush()
            os.fsync(spool.fileno())
        _write_durably(journal.leaves_path, leaves)
        if len(leaves) > 1:  # the halves: the second's documents are in their own spool file
            os.replace(journal.spool_tail_part, journal.spool_tail_path)
        os.replace(part, journal.spool_path)
        del leaves  # read back below, so that `build_tree` holds the only copy and lets it go once sorted
        tree, _ = build_tree(journal.leaves())
        state.batch_id, state.root = journal.batch_id, "0x" + tree.root.hex()
        del tree
        _write_durably(journal.state_path, [state.model_dump_json().encode() + b"\n"])
    except OSError as exc:
        _undo(journal, created)
        raise ConfigError(
            f"无法在 {journal.directory} 下写入颁发日志，未颁发任何证书 / cannot write the issuance journal under "
            f"{journal.directory}: {exc.strerror or exc}; nothing was issued"
        ) from exc
    except BaseException:
        _undo(journal, created)
        raise
    return state


def _undo(journal: Journal, created: list[Path]) -> None:
    """Leave no trace of a first pass that failed: its files, and the directories it made."""
    journal.remove()
    for directory in reversed(created):
        with contextlib.suppress(OSError):  # not empty, or gone: nothing of this batch is left in it
            directory.rmdir()


@dataclass
class _Pass:
    """What a first pass over (part of) a results file keeps: 32 bytes a leaf and 20 a file name."""

    leaves: bytearray
    names: bytearray  # 16-byte digest of each file name + its row (from `index_from`), 4 bytes big-endian
    keys: set[BatchKey]
    state: BatchState  # `renamed` left empty: the caller finds repeated names over the whole file


def _first_pass(
    source: IO[bytes],
    results: Path,
    spool: IO[bytes],
    context: IssueContext,
    identity_location: str,
    file_format: ResultsFormat | None,
    horizon_years: int,
    progress: Progress,
) -> tuple[bytes, BatchState]:
    done = _pass(source, results, spool, context, identity_location, file_format, horizon_years, progress)
    done.state.renamed = _later_repeats(done.names)
    return bytes(done.leaves), done.state


def _pass(
    source: IO[bytes],
    results: Path,
    spool: IO[bytes],
    context: IssueContext,
    identity_location: str,
    file_format: ResultsFormat | None,
    horizon_years: int,
    progress: Progress,
    index_from: int = 0,
) -> _Pass:
    leaves = bytearray()
    names = bytearray()  # 16-byte digest of each file name + its row, 4 bytes big-endian
    keys: set[BatchKey] = set()
    first: AnyCertificate | None = None
    wrapper = BatchWrapper()
    write = spool.write
    count = 0
    try:
        rows = iter_results(source, context=context, file_format=file_format, horizon_years=horizon_years)
        for _, certificate in rows:
            key = batch_key(certificate)
            if first is None:
                first = certificate
            if key not in keys:
                keys.add(key)
            if len(keys) > 1:
                continue  # keep reading: the error lists broken rows first, then the mixed sessions
            name = safe_file_name(certificate.certificate_number)
            data = certificate_to_data(certificate, identity_location=identity_location)
            try:
                leaf, head = wrapper.head(data)
            except UnhashableValue as error:
                raise UnhashableValue(error.field, error.reason, document=count) from None
            write(f"{name}\t{head}\n".encode())
            leaves += leaf
            names += hashlib.blake2b(name.encode(), digest_size=16).digest()
            names += (index_from + count).to_bytes(4, "big")
            count += 1
            if count % _PROGRESS_EVERY == 0:
                progress("read", count, count)
    except ResultsFileError as exc:  # read from an open file, so the file is named here
        raise ResultsFileError(str(results), list(exc.problems), exc.total) from None
    if len(keys) > 1:
        raise _mixed_sessions(len(keys))
    assert first is not None  # `iter_results` refuses a file without results
    progress("read", count, count)
    state = BatchState(
        batch_id="",
        root="",
        count=count,
        agency_id=context.agency.id,
        scope_id=first.scope_id,
        valid_until=expiry_timestamp(first.valid_until),
        kind=first.kind,
        occupation_code=first.occupation_code,
        level=first.level,
        valid_until_date=first.valid_until,
    )
    return _Pass(leaves, names, keys, state)


# --- the first pass on two cores ---------------------------------------------------------------------------

#: Results files of this many bytes or more (about 20,000 rows) are read in two halves at once, the second
#: half by a child process, when the machine has two cores or more.
SPLIT_FROM_BYTES = 4 << 20
_SECOND_HALF = 1 << 31  # the second half's rows are numbered from here until the halves are joined
_QUOTE_LINES = 10_000  # lines looked at past the middle for one outside a quoted CSV cell


def _split_point(results: Path, file_format: ResultsFormat | None) -> tuple[int, bytes] | None:
    """Where the file can be cut in two (the start of a row near its middle) and the text the second half
    is read after (the CSV header line); None if it cannot be cut safely, which only costs the speed-up.

    Read with plain reads a megabyte at a time (a mapping of the file would count in the resident memory).
    """
    if not hasattr(os, "fork") or usable_cores() < 2 or file_format not in ("csv", "jsonl"):
        return None
    try:
        size = results.stat().st_size
        if size < SPLIT_FROM_BYTES:
            return None
        middle = size // 2
        with results.open("rb") as fh:
            header = b""
            quotes = 0
            if file_format == "csv":
                header = fh.readline(1 << 16)
                if not header.endswith(b"\n") or b'"' in header or not header.strip(b"\xef\xbb\xbf \t\r\n"):
                    return None
                fh.seek(0)
                left = middle
                while left > 0 and (block := fh.read(min(1 << 20, left))):
                    quotes += block.count(b'"')
                    left -= len(block)
            fh.seek(middle)
            rest = fh.readline()  # to the end of the row the middle falls in
            at = middle + len(rest)
            csv_quotes = file_format == "csv"  # a JSON line holds no newline: any row start will do
            quotes += rest.count(b'"') if csv_quotes else 0
            for _ in range(_QUOTE_LINES):  # a CSV row starts after an even number of quotes
                if quotes % 2 == 0:
                    break
                line = fh.readline()
                if not line:
                    return None
                quotes += line.count(b'"')
                at += len(line)
            if quotes % 2 or at >= size or not rest.endswith(b"\n"):
                return None
            return at, header
    except OSError:
        return None


class _Slice(io.RawIOBase):
    """`prefix`, then the bytes of `raw` up to `limit` of them (all with None), each read through
    `hasher` (the prefix is not)."""

    def __init__(self, raw: IO[bytes], hasher: Any, limit: int | None = None, prefix: bytes = b"") -> None:
        self._raw, self.hasher, self._left, self._prefix = raw, hasher, limit, prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size], self._prefix = self._prefix[:size], self._prefix[size:]
            return size
        want = len(buffer) if self._left is None else min(len(buffer), self._left)
        data = self._raw.read(want) if want else b""
        buffer[: len(data)] = data
        self.hasher.update(data)
        if self._left is not None:
            self._left -= len(data)
        return len(data)


def _first_pass_in_two(
    results: Path,
    journal: Journal,
    spool: IO[bytes],
    raw: IO[bytes],
    batch_hash: Any,
    cut: tuple[int, bytes],
    context: IssueContext,
    identity_location: str,
    file_format: ResultsFormat | None,
    horizon_years: int,
    progress: Progress,
) -> tuple[list[bytearray], BatchState] | None:
    """The first pass with the file's second half read by a child process, on the other core: the leaves
    (the two halves' in order) and the state.

    The child writes its half's documents to `<id>.spool.2` and hands back its leaves and file-name digests;
    this process reads the first half into `spool`, then hashes the rest for the batch id and checks that
    the child read the same bytes. Anything to say about the rows (a broken row, mixed sessions, a repeated
    number or file name) or any failure of the child gives None: the caller then reads the whole file in
    one pass, which says it exactly as before. `batch_hash` is left as the whole file made it.
    """
    split, header = cut
    tail_path = journal.spool_tail_part
    tail_path.unlink(missing_ok=True)
    parent = os.getpid()
    reply, answer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own file, its own spool; nothing of the parent's is collected here
        gc.freeze()
        code = 1
        try:
            os.close(reply)

            def alive(stage: str, done: int, total: int) -> None:
                if os.getppid() != parent:  # the issuing process is gone: stop
                    os._exit(1)

            tail_hash = hashlib.sha256()
            with results.open("rb") as own, tail_path.open("xb") as tail:
                own.seek(split)
                source = io.BufferedReader(_Slice(own, tail_hash, prefix=header), 1 << 16)
                half = _pass(
                    source, results, tail, context, identity_location, file_format, horizon_years,
                    alive, index_from=_SECOND_HALF,
                )  # fmt: skip
                tail.flush()
                os.fsync(tail.fileno())
            # The leaves and names as they are (each a copy less on either side), after a small header.
            leaves, names, half.leaves, half.names = half.leaves, half.names, bytearray(), bytearray()
            head = pickle.dumps((half, tail_hash.hexdigest(), len(leaves), len(names)))
            _write_all(answer, len(head).to_bytes(8, "big") + head)
            _write_all(answer, memoryview(leaves))
            _write_all(answer, memoryview(names))
            code = 0
        except BaseException:  # noqa: S110 (the parent reads the whole file again and says what is wrong)
            pass
        finally:
            os._exit(code)
    os.close(answer)
    status = -1
    try:
        first: _Pass | None = None
        try:
            source = io.BufferedReader(_Slice(raw, batch_hash, limit=split), 1 << 16)
            first = _pass(
                source, results, spool, context, identity_location, file_format, horizon_years, progress
            )
        except (ResultsFileError, DocumentError, UnhashableValue):
            pass  # said again, exactly, by the pass over the whole file
        tail_hash = hashlib.sha256()
        raw.seek(split)
        while block := raw.read(1 << 20):
            batch_hash.update(block)
            tail_hash.update(block)
        second: _Pass | None = None
        with os.fdopen(reply, "rb") as fh:
            head = fh.read(int.from_bytes(fh.read(8).rjust(8, b"\0"), "big"))
            if head and first is not None:
                second, read_hash, leaves_size, names_size = pickle.loads(head)  # noqa: S301 (our child)
                second.leaves = bytearray(fh.read(leaves_size))
                first.names += fh.read(names_size)
        _, status = os.waitpid(pid, 0)
    finally:
        if status == -1:  # this process failed: the child's half is of no use
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    if first is None or second is None or status != 0:
        return None
    if read_hash != tail_hash.hexdigest() or len(first.keys | second.keys) > 1:
        return None
    if _later_repeats(first.names):  # both halves' names, the second's read after the first's
        return None  # a repeated number is an error, a repeated file name is renamed: one pass says which
    state = first.state
    state.count += second.state.count
    progress("read", state.count, state.count)
    return [first.leaves, second.leaves], state


def _later_repeats(entries: bytearray) -> list[int]:
    """Rows whose 16-byte digest an earlier row has, from the packed (digest, row) entries: sorted in 256
    buckets by the digest's first byte, so that Python objects exist for one bucket at a time."""
    buckets = [bytearray() for _ in range(256)]
    for at in range(0, len(entries), 20):
        buckets[entries[at]] += entries[at : at + 20]
    later: list[int] = []
    for index, bucket in enumerate(buckets):
        ordered = sorted(bytes(bucket[at : at + 20]) for at in range(0, len(bucket), 20))
        buckets[index] = bytearray()
        later += (int.from_bytes(b[16:], "big") for a, b in itertools.pairwise(ordered) if a[:16] == b[:16])
    return sorted(later)


class _HashingReader(io.RawIOBase):
    """A file read through `hasher`, so that what was parsed can be checked against the batch id."""

    def __init__(self, raw: IO[bytes], hasher: Any) -> None:
        self._raw = raw
        self.hasher = hasher

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.hasher.update(data)
        return len(data)


def _write_durably(path: Path, chunks: Sequence[bytes | bytearray]) -> None:
    """Write `chunks` to `path` through a temporary file, synced, so that a crash leaves old or new."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _convert_legacy_journal(journal: Journal) -> None:
    """Turn a journal of whole documents, as earlier versions wrote it, into this version's three files."""
    leaves = bytearray()
    root = None
    names: list[str] = []
    count = 0
    credreg: dict[str, Any] = {}
    part = journal.directory / f"{journal.batch_id}.spool.part"
    with journal.legacy_path.open(encoding="utf-8") as fh, part.open("wb") as spool:
        for line in fh:
            if not line.strip():
                continue
            document = json.loads(line)
            signature = document["signature"]
            root = root or signature["merkleRoot"]
            credreg = credreg or document["data"]["credreg"]
            name = safe_file_name(str(unsalt_value(document["data"]["id"])))
            head = dump_document(
                {
                    "version": OA_V2_SCHEMA,
                    "data": document["data"],
                    "signature": {"type": "SHA3MerkleProof", "targetHash": signature["targetHash"]},  # type: ignore[typeddict-item]
                },
                indent=None,
            )[:-2]
            spool.write(f"{name}\t{head}\n".encode())
            leaves += bytes.fromhex(signature["targetHash"])
            names.append(name)
            count += 1
    seen: set[str] = set()
    renamed = [i for i, name in enumerate(names) if name in seen or seen.add(name)]  # type: ignore[func-returns-value]
    valid_until_text = unsalt_value(credreg["validUntil"])
    valid_until_date = date.fromisoformat(str(valid_until_text)) if valid_until_text else None
    state = BatchState(
        batch_id=journal.batch_id,
        root="0x" + str(root),
        count=count,
        agency_id=int(str(unsalt_value(credreg["agencyId"]))),
        scope_id=str(unsalt_value(credreg["scopeId"])),
        valid_until=expiry_timestamp(valid_until_date),
        kind=str(unsalt_value(credreg["kind"])),
        occupation_code=str(unsalt_value(credreg["occupation"]["code"])),
        level=int(str(unsalt_value(credreg["level"]))),
        valid_until_date=valid_until_date,
        renamed=renamed,
    )
    _write_durably(journal.leaves_path, [bytes(leaves)])
    os.replace(part, journal.spool_path)
    _write_durably(journal.state_path, [state.model_dump_json().encode() + b"\n"])
    journal.legacy_path.unlink()


# --- recording and writing ----------------------------------------------------------------------------


def _completed(out_dir: Path, batch_id: str) -> BatchSummary | None:
    for summary_path in out_dir.glob("batch-*.json"):
        try:
            summary = read_summary_head(summary_path)
        except (OSError, ValueError):
            continue
        if summary.batch_id == batch_id:
            return summary
    return None


def read_summary_head(path: Path) -> BatchSummary:
    """A batch summary whose file names and leaves are read from the file when they are used.

    A summary of a million certificates is about 120 MB of JSON; this reads only its first lines.
    """
    head: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith('  "files": ['):
                break
            head.append(line)
            if len(head) > 40:
                break
    text = "".join(head).rstrip().rstrip(",") + "}"
    try:
        fields = json.loads(text)
        if not isinstance(fields, dict) or "count" not in fields or "files" in fields:
            raise ValueError("not a summary head")
    except ValueError:
        return BatchSummary.model_validate_json(path.read_bytes())
    return _with_lists(BatchSummary.model_validate({**fields, "files": [], "leaves": []}), path)


def _with_lists(summary: BatchSummary, path: Path) -> BatchSummary:
    """`summary` with its file names and leaves read from its file `path` when used (not validated again)."""
    lists = {key: _ListedInSummary(path, key) for key in ("files", "leaves")}
    return summary.model_copy(update=lists)


class _ListedInSummary(Sequence[str]):
    """One of a summary file's lists (`files` or `leaves`), read from the file each time it is iterated."""

    def __init__(self, path: Path, key: str) -> None:
        self._path, self._key = path, key
        self._cache: list[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._cache is not None:
            yield from self._cache
            return
        opening = f'  "{self._key}": ['
        inside = False
        with self._path.open(encoding="utf-8") as fh:
            for line in fh:
                if not inside:
                    if line.startswith(opening):
                        if line.rstrip().endswith(("[]", "[],")):
                            return
                        inside = True
                    continue
                if line.startswith("  ]"):
                    return
                yield json.loads(line.strip().rstrip(","))

    def __len__(self) -> int:
        if self._cache is None:
            self._cache = list(iter(self))
        return len(self._cache)

    def __bool__(self) -> bool:  # without reading a million names to count them
        return next(iter(self), None) is not None

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if self._cache is None:
            self._cache = list(iter(self))
        return self._cache[index]


def _record_and_write(
    registry: Registry,
    signer: LocalAccount,
    relayer: LocalAccount,
    state: BatchState,
    tree: MerkleTree,
    positions: Sequence[int],
    journal: Journal,
    out_dir: Path,
    resumed: bool,
    progress: Progress,
    confirmations: int,
    submit: Submit | None,
    files: bool,
    archive: bool,
) -> IssueOutcome:
    root, scope_id, valid_until, agency_id = state.root, state.scope_id, state.valid_until, state.agency_id
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
                tx_hash, block = submit(signed, list(journal.hex_leaves()))
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
    archive_name = f"batch-{root[2:18]}.jsonl" if archive else None
    try:
        write_documents(out_dir, journal, state, tree, positions, files, archive_name, progress)
    except OSError as exc:
        raise ConfigError(
            f"批次 {root} 已上链，但证书文件写入 {out_dir} 失败，请排除后重新运行同一命令写出文件 / "
            f"batch {root} is recorded on the ledger, but writing its documents to {out_dir} failed "
            f"({exc.strerror or exc}); fix that and run the same command again to write them"
        ) from exc
    fields: dict[str, Any] = {
        "batch_id": journal.batch_id,
        "root": root,
        "chain_id": registry.domain.chain_id,
        "registry": registry.address,
        "agency_id": record.agency_id,
        "scope_id": record.scope_id,
        "valid_until": record.valid_until,
        "signer": record.signer,
        "transaction_hash": tx_hash,
        "block_number": block,
        "issued_at": record.issued_at,
        "count": state.count,
        "archive": archive_name,
    }
    summary_path = out_dir / f"batch-{root[2:18]}.json"
    # The summary marks the batch complete, so every document must be on disk before it: one sync of
    # the filesystem costs far less than flushing a million files one by one.
    os.sync()
    try:
        _write_summary(
            summary_path, fields, _names(journal.files_path) if files else iter(()), journal.hex_leaves()
        )
    except OSError as exc:
        raise ConfigError(
            f"batch {root} is recorded and its documents are in {out_dir}, but its summary could not be "
            f"written ({exc.strerror or exc}); fix that and run the same command again"
        ) from exc
    journal.remove()
    summary = _with_lists(BatchSummary.model_validate({**fields, "files": [], "leaves": []}), summary_path)
    return IssueOutcome(summary, resumed=resumed, already_done=False)


def _write_summary(path: Path, fields: dict[str, Any], names: Iterator[str], leaves: Iterator[str]) -> None:
    """The summary as `BatchSummary.model_dump_json(indent=2)` writes it, streamed: scalars first, then one
    file name and one leaf a line (what `read_summary_head` relies on)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write("{\n")
        for key, value in fields.items():
            fh.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
        for key, items in (("files", names), ("leaves", leaves)):
            first = next(items, None)
            if first is None:
                fh.write(f'  "{key}": []')
            else:
                fh.write(f'  "{key}": [\n    {json.dumps(first)}')
                for item in items:
                    fh.write(f",\n    {json.dumps(item)}")
                fh.write("\n  ]")
            fh.write(",\n" if key == "files" else "\n")
        fh.write("}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _names(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield line.rstrip("\n")


# --- the forms of a batch issued before ----------------------------------------------------------------


def add_forms(
    out_dir: Path,
    summary: BatchSummary,
    *,
    files: bool,
    archive: bool,
    progress: Progress = _no_progress,
) -> tuple[BatchSummary, tuple[str, ...]]:
    """Write the forms asked for that a completed batch lacks, from its documents, and record them in its
    summary: the archive from its files, or its files from its archive. Nothing is sent to the ledger.

    Each document is checked against the summary before it is copied (its merkle root, and its target hash
    against the summary's leaf in the same place), so a changed or missing file stops this with its name
    and leaves the batch as it was. The new form is on disk (synced) before the summary names it; a crash
    before that leaves the summary as it was, and the same command writes the form again.
    """
    summary_path = out_dir / f"batch-{summary.root[2:18]}.json"
    want_archive = archive and summary.archive is None
    want_files = files and not summary.files
    if not want_archive and not want_files:
        return summary, ()
    if want_files and summary.archive is None:
        raise ConfigError(
            f"批次 {summary.root} 既无证书文件也无归档，无法补写 / batch {summary.root} has neither "
            f"document files nor an archive in {out_dir}: there is nothing to write them from"
        )
    fields = summary.model_dump(exclude={"files", "leaves"})
    added: list[str] = []
    names: Iterator[str] = iter(summary.files)
    try:
        if want_archive:
            fields["archive"] = _archive_from_files(out_dir, summary, progress)
            added.append("archive")
        if want_files:
            names_path = _files_from_archive(out_dir, summary, progress)
            names = _names(names_path)
            added.append("files")
        os.sync()  # the new form is whole on disk before the summary names it
        _write_summary(summary_path, fields, names, iter(summary.leaves))
    except OSError as exc:
        raise ConfigError(
            f"批次 {summary.root} 已颁发，但补写文件失败，请排除后重新运行同一命令 / batch {summary.root} is "
            f"issued, but writing its {' and '.join(added) or 'documents'} in {out_dir} failed "
            f"({exc.strerror or exc}); fix that and run the same command again"
        ) from exc
    finally:
        (out_dir / f".{summary_path.stem}.files").unlink(missing_ok=True)
    return read_summary_head(summary_path), tuple(added)


def _checked(document: bytes, where: str, root_tail: bytes, leaf: str | None) -> bytes:
    """`document` (one line, with its newline), once its root and target hash are those of the summary."""
    if not document.endswith(root_tail):
        raise ConfigError(
            f"{where} 不是本批次的证书（默克尔根不符）/ {where} is not a document of this batch (its merkle root "
            "differs from the summary's); restore it from a copy, or issue the forms another time"
        )
    if leaf is not None and _target_of(document) != leaf[2:]:
        raise ConfigError(
            f"{where} 与批次摘要不符（目标哈希不同）/ {where} does not match the batch summary (its target hash "
            "is not the summary's leaf in its place); restore it from a copy"
        )
    return document


_TARGET = b'"targetHash": "'


def _target_of(document: bytes) -> str:
    at = document.rfind(_TARGET)
    return document[at + len(_TARGET) : at + len(_TARGET) + 64].decode("ascii", "replace") if at >= 0 else ""


def _archive_from_files(out_dir: Path, summary: BatchSummary, progress: Progress) -> str:
    """The batch's archive, written from its document files in the summary's order; its name."""
    name = f"batch-{summary.root[2:18]}.jsonl"
    part = out_dir / f".{name}.part"
    root_tail = f'"merkleRoot": "{summary.root[2:]}"}}}}\n'.encode()
    leaves: Iterator[str | None] = iter(summary.leaves) if summary.leaves else itertools.repeat(None)
    count = 0
    try:
        with part.open("wb") as bundle:
            for file_name, leaf in zip(summary.files, leaves, strict=False):
                path = out_dir / file_name
                try:
                    document = path.read_bytes()
                except FileNotFoundError:
                    raise ConfigError(
                        f"{path} 缺失，无法写出归档 / {path} is missing: the archive cannot be written "
                        "without every document; restore it from a copy"
                    ) from None
                bundle.write(_checked(document, str(path), root_tail, leaf))
                count += 1
                if count % _PROGRESS_EVERY == 0:
                    progress("archive", count, summary.count)
            bundle.flush()
            os.fsync(bundle.fileno())
        if count != summary.count:
            raise ConfigError(f"the summary of batch {summary.root} names {count} files, not {summary.count}")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, out_dir / name)
    progress("archive", count, summary.count)
    return name


def _files_from_archive(out_dir: Path, summary: BatchSummary, progress: Progress) -> Path:
    """The batch's document files, written from its archive, named as the issuance names them; the path
    of a file listing their names in order."""
    assert summary.archive is not None
    archive = out_dir / summary.archive
    root_tail = f'"merkleRoot": "{summary.root[2:]}"}}}}\n'.encode()
    entries = bytearray()  # as in the first pass: a file name's digest and its row, for repeated names
    try:
        with archive.open("rb") as fh:
            for count, line in enumerate(fh):
                name = _file_name_of(line, f"{archive}:{count + 1}")
                entries += hashlib.blake2b(name.encode(), digest_size=16).digest() + count.to_bytes(4, "big")
    except FileNotFoundError:
        raise ConfigError(
            f"{archive} 缺失，无法写出证书文件 / {archive} is missing: the document files cannot be written "
            "without it; restore it from a copy"
        ) from None
    renamed = set(_later_repeats(entries))
    del entries
    names_path = out_dir / f".batch-{summary.root[2:18]}.files"
    leaves: Iterator[str | None] = iter(summary.leaves) if summary.leaves else itertools.repeat(None)
    directory = os.open(out_dir, os.O_RDONLY)
    count = 0
    try:
        with archive.open("rb") as fh, names_path.open("w", encoding="utf-8") as names:
            for i, (line, leaf) in enumerate(zip(fh, leaves, strict=False)):
                where = f"{archive}:{i + 1}"
                document = _checked(line, where, root_tail, leaf)
                name = _file_name_of(document, where)
                if i in renamed:
                    name = name[:-5] + f"-{_target_of(document)[:8]}.json"
                fd = os.open(name, _WRITE_FLAGS, 0o644, dir_fd=directory)
                try:
                    _write_all(fd, document)
                finally:
                    os.close(fd)
                names.write(name + "\n")
                count = i + 1
                if count % _PROGRESS_EVERY == 0:
                    progress("write", count, summary.count)
        os.fsync(directory)
    finally:
        os.close(directory)
    if count != summary.count:
        raise ConfigError(f"{archive} holds {count} documents, not the batch's {summary.count}")
    progress("write", count, summary.count)
    return names_path


def _file_name_of(document: bytes, where: str) -> str:
    """The file name the issuance gives a document: its certificate number, made safe."""
    try:
        number = unsalt_value(json.loads(document)["data"]["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where} 不是证书 / {where} is not a certificate: {exc}") from None
    return safe_file_name(str(number))


# Documents are written in place: no temporary file and rename each. The journal keeps every document until
# the summary, written last, marks the batch complete, and re-running the command rewrites every file from
# the journal, so a file a crash cut short is made whole again. Each document is its journal line with the
# proof spliced in (no JSON parsing or encoding: 4 µs for a proof of 20 steps), and each file is three
# system calls.
_WRITE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)


def write_documents(
    out_dir: Path,
    journal: Journal,
    state: BatchState,
    tree: MerkleTree,
    positions: Sequence[int],
    files: bool,
    archive_name: str | None,
    progress: Progress,
) -> None:
    """The second pass: each journal line completed with its proof, written as a file and/or archive line.

    With a file per document and a batch of `WORKER_FROM` or more, the files are created by a child process
    (`_FileWriter`) while this one completes the next documents: creating a file costs about as much as
    completing one, and the two then run on two cores.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    total = state.count
    root = tree.root.hex()
    renamed = set(state.renamed)
    leaves = journal.leaves() if renamed else b""
    proof_at = tree.proof_hex_at
    archive_part = out_dir / f".{archive_name}.part" if archive_name else None
    directory = os.open(out_dir, os.O_RDONLY)
    writer: _FileWriter | None = None
    try:
        if files:
            writer = _FileWriter(directory, forked=total >= WORKER_FROM and hasattr(os, "fork"))
        with (
            journal.files_path.open("w", encoding="utf-8") if files else _nothing() as names,
            archive_part.open("wb") if archive_part else _nothing() as bundle,
        ):
            written = 0
            for i, (name, head) in enumerate(journal.lines()):
                written += 1
                data = finish_document(head, proof_at(positions[i]), root)
                if bundle is not None:
                    bundle.write(data)
                if names is not None and writer is not None:
                    if i in renamed:  # two numbers that differ only in characters a file name cannot hold
                        name = name[:-5] + f"-{leaves[i * _LEAF : i * _LEAF + 4].hex()}.json"
                    writer.write(name, data)
                    names.write(name + "\n")
                if (i + 1) % _PROGRESS_EVERY == 0:
                    progress("write", i + 1, total)
            if written != total:
                raise ConfigError(
                    f"the issuance journal {journal.spool_path} holds {written} documents, not {total}"
                )
        if writer is not None:
            writer.close()
        if archive_part is not None and archive_name is not None:
            os.replace(archive_part, out_dir / archive_name)
        os.fsync(directory)
    finally:
        if writer is not None:
            writer.abort()
        os.close(directory)
    progress("write", total, total)


#: Batches of this many documents or more have their files created by a child process.
WORKER_FROM = 5_000
_PIPE_CHUNK = 1 << 20


class _FileWriter:
    """Creates the document files in `directory`: here, or in a forked child fed through a pipe.

    The child is given ``<name> TAB <document>`` records (a document is one line, its newline included),
    a megabyte at a time, and writes each file as this process would, in place; it exits 0 once the pipe is
    closed and every file is written, or 1 with the error's text on a second pipe. A crash of this process
    closes the pipe: the child writes what it was given whole and exits, and the same command run again
    rewrites every file from the journal, as it does after any crash while writing.
    """

    def __init__(self, directory: int, *, forked: bool) -> None:
        self._directory = directory
        self._pid = 0
        self._pending: list[bytes] = []
        self._size = 0
        if not forked:
            return
        records, self._records = os.pipe()
        errors_read, errors = os.pipe()
        with contextlib.suppress(AttributeError, OSError):  # Linux: a larger pipe, fewer wake-ups
            import fcntl

            fcntl.fcntl(self._records, fcntl.F_SETPIPE_SZ, _PIPE_CHUNK)
        pid = os.fork()
        if pid == 0:  # the child: no Python clean-up, no other thread's locks, only system calls
            code = 1
            gc.disable()  # no finaliser of the parent's objects (sockets, files) runs here
            try:
                os.close(self._records)
                os.close(errors_read)
                _write_records(records, directory)
                code = 0
            except BaseException as exc:  # reported to the parent, which raises it
                with contextlib.suppress(BaseException):
                    os.write(errors, f"{getattr(exc, 'strerror', None) or exc}".encode()[:4000])
            finally:
                os._exit(code)
        os.close(records)
        os.close(errors)
        self._pid, self._errors = pid, errors_read

    def write(self, name: str, data: bytes) -> None:
        if not self._pid:
            fd = os.open(name, _WRITE_FLAGS, 0o644, dir_fd=self._directory)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            return
        self._pending.append(name.encode() + b"\t" + data)
        self._size += len(data) + 128
        if self._size >= _PIPE_CHUNK:
            self._flush()

    def _flush(self) -> None:
        chunk, self._pending, self._size = b"".join(self._pending), [], 0
        try:
            _write_all(self._records, chunk)
        except BrokenPipeError:
            self._finish()  # the child stopped: its error says why
            raise

    def close(self) -> None:
        """Every file written (the child waited for); raises `OSError` with the child's error."""
        if self._pid:
            self._flush()
            self._finish()

    def _finish(self) -> None:
        os.close(self._records)
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        with os.fdopen(self._errors, "rb") as fh:
            said = fh.read().decode(errors="replace")
        if status != 0:
            raise OSError(said or f"the process writing the files ended with status {status}")

    def abort(self) -> None:
        """Stop a child still running (after an error here): it writes what it holds, then ends."""
        if self._pid:
            with contextlib.suppress(OSError):
                self._finish()


def _write_records(records: int, directory: int) -> None:
    """The child's loop: read ``<name> TAB <document>`` records from `records`, write each as a file."""
    rest = b""
    flags, find, open_, close = _WRITE_FLAGS, bytes.find, os.open, os.close
    while block := os.read(records, _PIPE_CHUNK):
        buffer = rest + block if rest else block
        view = memoryview(buffer)
        at = 0
        while (end := find(buffer, b"\n", at)) >= 0:
            tab = find(buffer, b"\t", at, end)
            fd = open_(buffer[at:tab], flags, 0o644, dir_fd=directory)
            try:
                _write_all(fd, view[tab + 1 : end + 1])
            finally:
                close(fd)
            at = end + 1
        rest = buffer[at:]
    os.close(records)


class _nothing:
    """A context manager that gives None, for an output not asked for."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _write_all(fd: int, data: bytes | memoryview) -> None:
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


def _preview(
    registry: Registry,
    signer: LocalAccount,
    agency_id: int,
    agency_name: str,
    *,
    kind: CertificateKind,
    occupation_code: str,
    level: int,
    scope_id: str,
    count: int,
    valid_until_date: date | None,
) -> IssuePreview:
    """What a batch would be issued under, with the scope's title and the agency's accreditation for it read
    from the ledger."""
    scope = registry.scope(scope_id)
    window = registry.accreditation(agency_id, scope_id)
    return IssuePreview(
        agency_id=agency_id,
        agency_name=agency_name,
        signer=signer.address,
        kind=kind,
        occupation_code=occupation_code,
        level=level,
        scope_id=scope_id,
        scope_title=scope.title if scope.index else None,
        accredited=bool(window.scope_index),
        accredited_from=window.valid_from if window.scope_index else 0,
        accredited_until=window.valid_until if window.scope_index else 0,
        count=count,
        valid_until=expiry_timestamp(valid_until_date),
        valid_until_date=valid_until_date,
    )


def _preview_of(registry: Registry, signer: LocalAccount, state: BatchState) -> IssuePreview:
    return _preview(
        registry,
        signer,
        state.agency_id,
        registry.agency(state.agency_id).name,
        kind=state.kind,
        occupation_code=state.occupation_code,
        level=state.level,
        scope_id=state.scope_id,
        count=state.count,
        valid_until_date=state.valid_until_date,
    )


@dataclass(frozen=True)
class DryRun:
    """What `dry_run_results_file` found: the preview, and what the issuance would do with the file now.

    `status` is "new" (the first pass ran in memory: `root` is the root of this run's salts, and a real
    run salts afresh, so its root differs), "resume" (a journal names the root a real run would send) or
    "done" (the batch is issued already: `root` is on the ledger, and `missing` the forms asked for that a
    real run would add from its documents).
    """

    preview: IssuePreview
    status: str
    batch_id: str
    root: str
    count: int
    document_bytes: int = 0  # the documents' text up to their proofs, as the journal would hold it
    missing: tuple[str, ...] = ()


class _Discard:
    """A spool that counts what it is given and keeps none of it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def dry_run_results_file(
    registry: Registry,
    signer: LocalAccount,
    results: Path,
    out_dir: Path,
    *,
    identity_location: str,
    file_format: ResultsFormat | None = None,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
    batches_dir: Path | None = None,
    files: bool = True,
    archive: bool = False,
) -> DryRun:
    """`issue_results_file` up to the ledger, writing nothing and sending nothing.

    A batch not started yet goes through the first pass in memory: every row read and checked, salted and
    hashed, the merkle tree built (32 bytes a certificate, as a real run keeps); the documents' text is
    counted, not kept. A batch started or issued before is read from its journal or its summary, as the real
    run would, and a batch tied to another output directory is refused as the real run refuses it.
    """
    agency = signer_agency(registry, signer)
    batch_id = _file_batch_id(results, registry, agency.id, identity_location)
    marker = batches_dir / f"{batch_id}.json" if batches_dir is not None else None
    if marker is not None and marker.exists():
        _claim(marker, out_dir, results)  # refuses another directory; writes nothing for this one
    journal = Journal(out_dir / JOURNAL_DIR, batch_id)
    context = IssueContext(agency=agency, chain_id=registry.domain.chain_id, registry=registry.address)
    done = _completed(out_dir, batch_id) if out_dir.is_dir() else None
    if done is not None:
        preview = _preview_of(registry, signer, _state_of_summary(done, context, results, file_format))
        missing = tuple(
            form
            for form, wanted, present in (
                ("archive", archive, done.archive),
                ("files", files, bool(done.files)),
            )
            if wanted and not present
        )
        return DryRun(preview, "done", batch_id, done.root, done.count, missing=missing)
    if journal.state_path.exists():
        state = journal.state()
        assert state is not None
        return DryRun(_preview_of(registry, signer, state), "resume", batch_id, state.root, state.count)
    sink = _Discard()
    try:
        with results.open("rb") as source:
            leaves, state = _first_pass(
                source, results, cast(IO[bytes], sink), context, identity_location,
                file_format or _format_of(results), horizon_years, _no_progress,
            )  # fmt: skip
    except OSError as exc:
        raise DocumentError(f"cannot read results file {results}: {exc.strerror or exc}") from exc
    tree, _ = build_tree(leaves)
    root = "0x" + tree.root.hex()
    del tree, leaves
    preview = _preview_of(registry, signer, state)
    return DryRun(preview, "new", batch_id, root, state.count, document_bytes=sink.size)


def _state_of_summary(
    summary: BatchSummary, context: IssueContext, results: Path, file_format: ResultsFormat | None
) -> BatchState:
    """The state a completed batch was issued under, for its preview: the summary's, with the kind,
    occupation, level and validity of the file's first row (one session: every row has the same)."""
    rows = iter_results(results, context=context, file_format=file_format or _format_of(results))
    try:
        _, first = next(rows)
    except ResultsFileError as exc:
        raise DocumentError(f"cannot read results file {results}: {exc.problems[0].message}") from None
    del rows  # the rest is not read: the file was issued whole
    return BatchState(
        batch_id=summary.batch_id,
        root=summary.root,
        count=summary.count,
        agency_id=summary.agency_id,
        scope_id=summary.scope_id,
        valid_until=summary.valid_until,
        kind=first.kind,
        occupation_code=first.occupation_code,
        level=first.level,
        valid_until_date=first.valid_until,
    )


def preview_results_file(
    registry: Registry,
    signer: LocalAccount,
    results: Path,
    *,
    file_format: ResultsFormat | None = None,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
) -> IssuePreview:
    """Read `results` the way `issue_results_file` does and say under which agency and scope it would issue."""
    agency = signer_agency(registry, signer)
    context = IssueContext(agency=agency, chain_id=registry.domain.chain_id, registry=registry.address)
    first: AnyCertificate | None = None
    keys: set[BatchKey] = set()
    count = 0
    try:
        for _, certificate in iter_results(
            results,
            context=context,
            file_format=file_format or _format_of(results),
            horizon_years=horizon_years,
        ):
            first = first or certificate
            keys.add(batch_key(certificate))
            count += 1
    except ResultsFileError as exc:
        if any(p.row is None and p.message.startswith("cannot read") for p in exc.problems):
            raise DocumentError(f"cannot read results file {results}: {exc.problems[0].message}") from None
        raise
    if len(keys) > 1:
        raise _mixed_sessions(len(keys))
    assert first is not None  # `iter_results` refuses a file without results
    return _preview(
        registry,
        signer,
        agency.id,
        agency.name,
        kind=first.kind,
        occupation_code=first.occupation_code,
        level=first.level,
        scope_id=first.scope_id,
        count=count,
        valid_until_date=first.valid_until,
    )
