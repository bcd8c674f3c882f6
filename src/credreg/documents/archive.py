"""Archives: a batch's wrapped documents in one JSON-lines file, one document a line.

`credreg issue --archive` writes one (``batch-<root>.jsonl``) beside, or instead of, one file per document.
Each line is exactly what the document's own file holds, so a line copied out is a certificate file.
`credreg verify` checks every line of it, naming each ``<archive>:<line>``; `credreg disclose` takes one
document out of it by its target hash or its line number (from 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from credreg.errors import DocumentError

__all__ = ["ARCHIVE_SUFFIXES", "archive_lines", "find_in_archive", "is_archive"]

ARCHIVE_SUFFIXES = (".jsonl", ".ndjson")


def is_archive(path: Path) -> bool:
    """Whether `path` names an archive (by its suffix: a certificate file is ``.json``)."""
    return path.suffix.lower() in ARCHIVE_SUFFIXES


def archive_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number from 1, document text)`` of each non-blank line, read as iterated."""
    try:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                text = line.strip()
                if text:
                    yield number, text
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc


def find_in_archive(path: Path, *, target: str | None = None, line: int | None = None) -> bytes:
    """The document on `line` of the archive, or the one whose target hash is `target` (with or without 0x).

    Raises `DocumentError` saying which was not found.
    """
    if (target is None) == (line is None):
        raise DocumentError("name one document of the archive: its target hash or its line number")
    if line is not None:
        for number, text in archive_lines(path):
            if number == line:
                return text
        raise DocumentError(f"{path} has no document on line {line}")
    assert target is not None
    wanted = target.lower().removeprefix("0x")
    needle = f'"targetHash": "{wanted}"'.encode()
    for _, text in archive_lines(path):
        if needle in text or wanted.encode() in text:
            try:
                signature = json.loads(text).get("signature", {})
            except ValueError:
                continue
            if isinstance(signature, dict) and str(signature.get("targetHash", "")).lower() == wanted:
                return text
    raise DocumentError(f"{path} holds no document with target hash {wanted}")
