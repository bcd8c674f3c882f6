"""CSV exports of the ledger's events and of every credential's status, for an auditor's spreadsheet.

What a person reads:
- Every column is labelled in Chinese and English (`区块 / block`); a time column names its zone
  (`时间 (Asia/Shanghai) / time (Asia/Shanghai)`, CREDREG_TIMEZONE) and each time carries its offset
  (`2026-03-01 09:00:00 +08:00`). The raw Unix seconds of each event's block stay in their own column.
- Events, actions, reasons, statuses and verdicts are words from `credreg.labels`, in both languages, with the
  code the ledger stores beside them (`3 证书信息有误 / the certificate's details were wrong`).
- With the agencies' batch summaries (`credreg audit replay --batches DIR`), each batch counts its certificates
  and each certificate gets a row with its certificate number, read from the documents beside the summary
  (the ledger and the service hold hashes only: numbers are never on the ledger).

Encoding choices, so that Excel, LibreOffice and Numbers open the files as they are:
- UTF-8 with a byte-order mark: without it Excel reads UTF-8 as the machine's legacy code page and
  agency names in Chinese (or any non-ASCII text) come out garbled.
- CRLF line ends and RFC 4180 quoting (Python's `csv` default dialect).
- Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a
  leading apostrophe: agency names and titles come from the ledger and must not execute on an auditor's
  machine.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from credreg.audit.source import time_of
from credreg.audit.state import LedgerState
from credreg.chain.codec import ContractCodec, LedgerEvent
from credreg.chain.states import Verdict
from credreg.config import DEFAULT_TIME_ZONE
from credreg.documents.merkle import MerkleTree
from credreg.hashes import hash_bytes
from credreg.labels import ACTIONS, EVENT_FIELDS, EVENTS, LEDGER_VERDICTS, Words, reason_words
from credreg.summaries import KnownBatch

ENCODING = "utf-8-sig"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Event arguments that are times (Unix seconds on the ledger), shown in local time.
TIME_ARGS = frozenset(
    {"validFrom", "validUntil", "issuedAt", "since", "cutoff", "retiredAt", "compromisedSince"}
)
_EXTRA_FIELDS: dict[str, Words] = {
    "actor": Words("操作账户", "Actor"),
    "root": Words("批次根", "Batch root"),
    "target": Words("目标哈希", "Target hash"),
    "documentStore": Words("存证合约", "Document store"),
    "publicKey": Words("公钥", "Public key"),
    "retiredAt": Words("停用时间", "Retired"),
}
_STATUSES: dict[str, Words] = {
    "none": Words("无变更", "none"),
    "revoked": Words("已撤销", "revoked"),
    "suspended": Words("已暂停", "suspended"),
}
_KINDS: dict[str, Words] = {
    "root": Words("批次", "batch"),
    "certificate": Words("证书", "certificate"),
    "leaf-or-node": Words("证书或批次的一部分", "certificate or part of a batch"),
}


def both(words: Words) -> str:
    return f"{words.zh} / {words.en}"


def zone_of(zone: tzinfo | None) -> tzinfo:
    return zone or ZoneInfo(DEFAULT_TIME_ZONE)


def local_time(moment: int, zone: tzinfo | None = None) -> str:
    """`2026-03-01 09:00:00 +08:00`: local time with its offset; empty for 0 (no time)."""
    if not moment:
        return ""
    try:
        local = datetime.fromtimestamp(moment, zone_of(zone))
    except (ValueError, OverflowError, OSError):
        return str(moment)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def time_header(zone: tzinfo | None, words: Words) -> str:
    name = str(zone_of(zone))
    return f"{words.zh} ({name}) / {words.en} ({name})"


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def reason_cell(code: int) -> str:
    return f"{code} {both(reason_words(code))}"


def action_cell(code: int) -> str:
    words = ACTIONS.get(code)
    return f"{code} {both(words)}" if words else str(code)


def _cell(arg: str, value: Any, zone: tzinfo | None) -> Any:
    if isinstance(value, bool):
        return "是 / yes" if value else "否 / no"
    if arg in TIME_ARGS and isinstance(value, int):
        return local_time(value, zone) or "不限 / none"
    if arg == "action" and isinstance(value, int):
        return action_cell(value)
    if arg == "reason" and isinstance(value, int):
        return reason_cell(value)
    if isinstance(value, str):
        return safe_text(value)  # addresses come in EIP-55 form from the decoder
    return value


def _field_header(arg: str, taken: set[str]) -> str:
    words = EVENT_FIELDS.get(arg) or _EXTRA_FIELDS.get(arg)
    header = both(words) if words else arg
    if header in taken:  # two arguments with the same words ("序号 / Index" and the nonce): name the raw one
        header = f"{header} ({arg})"
    taken.add(header)
    return header


class EventsCsv:
    """Writes one row per event; the argument columns are the union of the ABI's event fields."""

    def __init__(self, stream: IO[str], decoder: ContractCodec, zone: tzinfo | None = None) -> None:
        columns: list[str] = []
        for name in decoder.event_names:
            for arg, _ in decoder.fields_of(name):
                if arg not in columns:
                    columns.append(arg)
        self.columns = columns
        self.zone = zone
        self.writer = csv.writer(stream)
        taken: set[str] = set()
        self.writer.writerow(
            [
                "区块 / block",
                time_header(zone, Words("时间", "time")),
                "区块时间（Unix 秒） / block time (Unix seconds)",
                "交易 / transaction",
                "日志序号 / log index",
                "事件 / event",
                "事件代码 / event code",
                *(_field_header(c, taken) for c in columns),
            ]
        )
        self.rows = 0

    def write(self, event: LedgerEvent) -> None:
        args = event.args
        words = EVENTS.get(event.name)
        moment = time_of(event)
        self.writer.writerow(
            [
                event.block_number,
                local_time(moment, self.zone),
                moment,
                event.transaction_hash,
                event.log_index,
                both(words) if words else event.name,
                event.name,
                *(_cell(c, args[c], self.zone) if c in args else "" for c in self.columns),
            ]
        )
        self.rows += 1


@contextmanager
def events_csv(path: Path, decoder: ContractCodec, zone: tzinfo | None = None) -> Iterator[EventsCsv]:
    """An events CSV at `path`, written as the replay goes (rows are never held in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=ENCODING, newline="") as stream:
        yield EventsCsv(stream, decoder, zone)


def credential_columns(zone: tzinfo | None = None) -> list[str]:
    return [
        "哈希 / hash", "类别 / kind", "证书编号 / certificate number", "证书数 / certificates",
        "批次根 / batch root", "机构编号 / agency id", "机构名称 / agency name", "职业范围 / scope id",
        "职业编码 / occupation code", "等级 / level", "签名密钥 / signer",
        time_header(zone, Words("签发时间", "issued")), time_header(zone, Words("有效期至", "valid until")),
        "状态 / status", "原因 / reason", time_header(zone, Words("状态起始", "status since")),
        "设置者 / set by", "变更次数 / changes", "结论 / verdict", "结论代码 / verdict code",
    ]  # fmt: skip


def _verdict_cells(verdict: Verdict) -> list[str]:
    words = LEDGER_VERDICTS.get(verdict.label)
    return [both(words) if words else verdict.label, verdict.label]


def _status_cell(name: str) -> str:
    return both(_STATUSES[name]) if name in _STATUSES else name


def write_credentials_csv(
    path: Path,
    state: LedgerState,
    moment: int,
    zone: tzinfo | None = None,
    batches: Mapping[tuple[int, str], KnownBatch] | None = None,
) -> int:
    """One row per root (with its verdict at `moment`), per certificate of a batch whose leaves are known
    (`batches`), and per other status target; returns the row count."""
    known = batches or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    # Certificates already on a row of their own (roots are looked up in the state, not held again).
    leaves = {(a, leaf) for (a, root), b in known.items() if (a, root) in state.roots for leaf in b.leaves}
    with path.open("w", encoding=ENCODING, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(credential_columns(zone))
        for key, _record in state.roots.by_block():
            agency_id, root = key
            batch = known.get(key)
            count: Any = len(batch.leaves) if batch else "未知 / unknown"
            verdict = state.verdict(agency_id, root, root, [], moment).verdict
            writer.writerow(_batch_row(state, key, root, "root", "", count, verdict, zone))
            rows += 1
            if batch is None:
                continue
            tree = MerkleTree(hash_bytes(leaf) for leaf in batch.leaves)
            for leaf in batch.leaves:
                proof = ["0x" + p.hex() for p in tree.proof(hash_bytes(leaf))]
                verdict = state.verdict(agency_id, root, leaf, proof, moment).verdict
                number = batch.numbers.get(leaf, "")
                writer.writerow(_batch_row(state, key, leaf, "certificate", number, "", verdict, zone))
                rows += 1
        for key, entry in state.targets.by_block():
            agency_id, target = key
            if key in leaves or key in state.roots:
                continue  # already on its root's or its certificate's row
            owner = state.roots.get((agency_id, entry.root))
            agency = state.agencies.get(agency_id) if owner else None
            leaf_verdict = (
                state.verdict_of_path(agency_id, [target, entry.root], moment).verdict
                if owner
                else Verdict.NOT_ISSUED
            )
            writer.writerow(
                [
                    target, both(_KINDS["leaf-or-node"]), "", "", entry.root, owner.agency_id if owner else "",
                    safe_text(agency.name) if agency else "", owner.scope_id if owner else "", "", "",
                    owner.signer if owner else "", local_time(owner.issued_at, zone) if owner else "",
                    (local_time(owner.valid_until, zone) or "长期有效 / no end") if owner else "",
                    _status_cell(entry.status.name.lower()), reason_cell(entry.reason) if entry.reason else "",
                    local_time(entry.since, zone), _set_by(entry.by_governor, agency_id), entry.changes,
                    *_verdict_cells(leaf_verdict),
                ]
            )  # fmt: skip
            rows += 1
    return rows


def _batch_row(
    state: LedgerState,
    key: tuple[int, str],
    hash_: str,
    kind: str,
    number: str,
    count: Any,
    verdict: Verdict,
    zone: tzinfo | None,
) -> list[Any]:
    """A batch's row, or one of its certificates': the batch's record, the hash's own status."""
    agency_id, root = key
    record = state.roots[key]
    agency = state.agencies.get(agency_id)
    scope = state.scopes.get(record.scope_id)
    status = state.targets.get((agency_id, hash_))
    return [
        hash_, both(_KINDS[kind]), number, count, root, record.agency_id,
        safe_text(agency.name) if agency else "", record.scope_id,
        safe_text(scope.occupation_code) if scope else "", scope.level if scope else "",
        record.signer, local_time(record.issued_at, zone),
        local_time(record.valid_until, zone) or "长期有效 / no end",
        _status_cell(status.status.name.lower() if status else "none"),
        reason_cell(status.reason) if status and status.reason else "",
        local_time(status.since, zone) if status else "",
        _set_by(status.by_governor, agency_id) if status else "",
        status.changes if status else 0, *_verdict_cells(verdict),
    ]  # fmt: skip


def _set_by(by_governor: bool, agency_id: int) -> str:
    return "管理部门 / governor" if by_governor else f"机构 {agency_id} / agency {agency_id}"
