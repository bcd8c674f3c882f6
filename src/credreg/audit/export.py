"""CSV exports of the ledger's events and of every credential's status, for spreadsheets.

Encoding choices, so that Excel, LibreOffice and Numbers open the files as they are:
- UTF-8 with a byte-order mark: without it Excel reads UTF-8 as the machine's legacy code page and
  agency names in Chinese (or any non-ASCII text) come out garbled; LibreOffice and Python's `csv` with
  `encoding="utf-8-sig"` read the mark transparently.
- CRLF line ends and RFC 4180 quoting (Python's `csv` default dialect).
- Times as `YYYY-MM-DD HH:MM:SSZ` in UTC next to the raw Unix seconds, which a spreadsheet reads as text
  and sorts correctly.
- Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a
  leading apostrophe: agency names and titles come from the ledger and must not execute on an auditor's
  machine.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from credreg.audit.source import AuditEvent, FastDecoder, checksum
from credreg.audit.state import LedgerState
from credreg.chain.states import Verdict

ENCODING = "utf-8-sig"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_time(moment: int) -> str:
    if not moment:
        return ""
    try:
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return str(moment)


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if value.startswith("0x") and len(value) == 42:
            return checksum(value)
        return safe_text(value)
    return value


class EventsCsv:
    """Writes one row per event; the argument columns are the union of the ABI's event fields."""

    def __init__(self, stream: IO[str], decoder: FastDecoder) -> None:
        columns: list[str] = []
        for name in decoder.event_names:
            for arg, _ in decoder.fields_of(name):
                if arg not in columns:
                    columns.append(arg)
        self.columns = columns
        self.writer = csv.writer(stream)
        self.writer.writerow(
            ["block", "block_time_utc", "block_time", "transaction_hash", "log_index", "event", *columns]
        )
        self.rows = 0

    def write(self, event: AuditEvent) -> None:
        args = event.args
        self.writer.writerow(
            [
                event.block_number,
                spreadsheet_time(event.block_time),
                event.block_time,
                event.transaction_hash,
                event.log_index,
                event.name,
                *(_cell(args[c]) if c in args else "" for c in self.columns),
            ]
        )
        self.rows += 1


@contextmanager
def events_csv(path: Path, decoder: FastDecoder) -> Iterator[EventsCsv]:
    """An events CSV at `path`, written as the replay goes (rows are never held in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=ENCODING, newline="") as stream:
        yield EventsCsv(stream, decoder)


CREDENTIAL_COLUMNS = [
    "hash", "kind", "root", "agency_id", "agency_name", "scope_id", "occupation_code", "level", "signer",
    "issued_at_utc", "valid_until_utc", "status", "reason", "since_utc", "set_by", "changes", "verdict",
]  # fmt: skip


def write_credentials_csv(path: Path, state: LedgerState, moment: int) -> int:
    """One row per root (with its verdict at `moment`) and per status target; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding=ENCODING, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CREDENTIAL_COLUMNS)
        for key in sorted(state.roots, key=lambda k: (state.roots[k].block, k)):
            agency_id, root = key
            record = state.roots[key]
            agency = state.agencies.get(agency_id)
            scope = state.scopes.get(record.scope_id)
            status = state.targets.get(key)
            verdict = state.verdict(agency_id, root, root, [], moment)
            writer.writerow(
                [
                    root, "root", root, record.agency_id, safe_text(agency.name) if agency else "",
                    record.scope_id, safe_text(scope.occupation_code) if scope else "", scope.level if scope else "",
                    checksum(record.signer), spreadsheet_time(record.issued_at),
                    spreadsheet_time(record.valid_until) or "none",
                    status.status.name.lower() if status else "none", status.reason if status else "",
                    spreadsheet_time(status.since) if status else "", _set_by(status.by_governor, agency_id) if status else "",
                    status.changes if status else 0, verdict.verdict.label,
                ]
            )  # fmt: skip
            rows += 1
        for key in sorted(state.targets, key=lambda k: (state.targets[k].last_block, k)):
            agency_id, target = key
            entry = state.targets[key]
            if key in state.roots:
                continue  # already on its root's row
            owner = state.roots.get((agency_id, entry.root))
            agency = state.agencies.get(agency_id) if owner else None
            leaf_verdict = (
                state.verdict_of_path(agency_id, [target, entry.root], moment).verdict
                if owner
                else Verdict.NOT_ISSUED
            )
            writer.writerow(
                [
                    target, "leaf-or-node", entry.root, owner.agency_id if owner else "",
                    safe_text(agency.name) if agency else "", owner.scope_id if owner else "", "", "",
                    checksum(owner.signer) if owner else "", spreadsheet_time(owner.issued_at) if owner else "",
                    (spreadsheet_time(owner.valid_until) or "none") if owner else "",
                    entry.status.name.lower(), entry.reason, spreadsheet_time(entry.since),
                    _set_by(entry.by_governor, agency_id), entry.changes, leaf_verdict.label,
                ]
            )  # fmt: skip
            rows += 1
    return rows


def _set_by(by_governor: bool, agency_id: int) -> str:
    return "governor" if by_governor else f"agency {agency_id}"
