"""The batch summary files `credreg issue` writes (`batch-….json`), read back with the documents beside them:
which certificates (leaves) a batch holds, and their certificate numbers. Used to tell a service a batch's
leaves (`credreg batch upload`) and to name certificates in an audit (`credreg audit replay --batches`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from credreg.documents.canonical import unsalt_value
from credreg.documents.merkle import MerkleTree
from credreg.documents.wrap import check_target_hash, load_document
from credreg.errors import CredregError, DocumentError
from credreg.hashes import hash_bytes
from credreg.issuance import BatchSummary, read_summary_head

_LEAF = re.compile(r"0x[0-9a-fA-F]{64}")


def read_summary(path: Path) -> BatchSummary:
    """The summary at `path`; a DocumentError naming the file when it is not one.

    Its file names and leaves are read from the file each time they are iterated (a summary of a million
    certificates is over 70 MB of JSON), except for a summary written otherwise than `credreg issue` writes
    it, which is read whole."""
    try:
        return read_summary_head(path)
    except OSError as exc:
        raise DocumentError(f"无法读取 {path} / cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DocumentError(f"{path} 不是批次摘要 / is not a batch summary: not UTF-8 text") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DocumentError(
            f"{path} 不是批次摘要 / is not a batch summary (the batch-….json `credreg issue` writes): "
            f"{where}: {first['msg']}"
        ) from None


def _documents(path: Path, summary: BatchSummary) -> Iterator[tuple[Path, dict[str, object] | None]]:
    for name in summary.files:
        document = path.parent / Path(name).name  # only beside the summary, never elsewhere
        try:
            yield document, dict(load_document(document.read_bytes()))
        except (OSError, CredregError, ValueError):
            yield document, None


def summary_leaves(path: Path, summary: BatchSummary) -> list[str]:
    """The batch's leaves: from the summary, or (older summaries) from the documents it lists beside it."""
    return list(iter_summary_leaves(path, summary))


def iter_summary_leaves(path: Path, summary: BatchSummary) -> Iterator[str]:
    """`summary_leaves`, one at a time as read (lower-case 0x-hex): each pass reads the file again."""
    if summary.leaves:
        try:
            for leaf in summary.leaves:
                if not isinstance(leaf, str) or not _LEAF.fullmatch(leaf):
                    raise DocumentError(f"{path}: {leaf!r} in its leaves is not a 0x-hex hash of 32 bytes")
                yield leaf.lower()
        except ValueError as exc:  # a line of its leaves that is not JSON
            raise DocumentError(f"{path} 不是批次摘要 / is not a batch summary: {exc}") from None
        return
    for document, wrapped in _documents(path, summary):
        if wrapped is None:
            raise DocumentError(
                f"此摘要未列出叶子，且无法读取证书文件 {document} / the summary lists no leaves and the "
                f"certificate file {document} cannot be read; keep the summary beside its documents"
            )
        yield "0x" + str(wrapped["signature"]["targetHash"]).lower()  # type: ignore[index]


@dataclass(frozen=True)
class KnownBatch:
    """A batch whose leaves build its root, and the certificate numbers of the documents found beside it."""

    agency_id: int
    root: str
    leaves: tuple[str, ...]
    numbers: dict[str, str]  # leaf -> certificate number, for each intact document whose hash is a leaf


def known_batch(path: Path) -> KnownBatch:
    """Read a summary and its documents; a DocumentError when its leaves do not build its root."""
    summary = read_summary(path)
    leaves = summary_leaves(path, summary)
    tree = MerkleTree(hash_bytes(leaf) for leaf in leaves)
    if "0x" + tree.root.hex() != summary.root.lower():
        raise DocumentError(f"{path}: its leaves build 0x{tree.root.hex()}, not its root {summary.root}")
    wanted = set(leaves)
    numbers: dict[str, str] = {}
    for _document, wrapped in _documents(path, summary):
        # An altered file could name any number: only a document whose data still makes its hash counts.
        if wrapped is None or not check_target_hash(wrapped):  # type: ignore[arg-type]
            continue
        leaf = "0x" + str(wrapped["signature"]["targetHash"]).lower()  # type: ignore[index]
        if leaf in wanted:
            numbers[leaf] = str(unsalt_value(wrapped["data"]["id"]))  # type: ignore[index]
    return KnownBatch(summary.agency_id, summary.root.lower(), tuple(leaves), numbers)


def known_batches(
    folders: list[Path], chain_id: int, registry: str
) -> tuple[dict[tuple[int, str], KnownBatch], list[str]]:
    """Every batch summary under `folders` (searched recursively) of this chain and registry, with notes on
    the files left out and why."""
    batches: dict[tuple[int, str], KnownBatch] = {}
    notes: list[str] = []
    for folder in folders:
        for path in sorted(folder.rglob("batch-*.json")):
            try:
                summary = read_summary(path)
                if summary.chain_id != chain_id or summary.registry.lower() != registry.lower():
                    notes.append(f"{path}: a batch of another registry (chain {summary.chain_id}), left out")
                    continue
                batch = known_batch(path)
            except DocumentError as exc:
                notes.append(f"{exc}; left out")
                continue
            batches[(batch.agency_id, batch.root)] = batch
    return batches, notes
