"""The status lists the service publishes: rebuilt from the event index and the leaves of the batches
relayed through it, signed with the registry operator's Ed25519 key.

A batch relayed without its leaves, or recorded straight on the ledger, has no positions (see
`credreg.vc.ledger`); `PublishedLists.unknown` names those batches. Lists are rebuilt when the index has
moved on, and each page's credential is signed once per rebuild: the credential's ``validFrom`` and proof
time are the block time of the last event it reflects, so an unchanged list is byte for byte the same (and
keeps its ETag) however many blocks pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from credreg.chain.devchain import DEV_CHAIN_ID
from credreg.config import Settings
from credreg.documents.merkle import MerkleTree
from credreg.errors import ConfigError
from credreg.service.db import BatchLeaf, Database, LedgerEventRow
from credreg.service.index import EventIndex, EventQuery
from credreg.vc.keys import SigningKey, generate_key, load_signing_key
from credreg.vc.ledger import DEV_KEY_FILE, STATUS_EVENTS, LedgerLists, lists_from_events
from credreg.vc.statuslist import StatusPurpose, status_list_credential

__all__ = ["DEV_KEY_FILE", "PublishedList", "PublishedLists", "StatusListPublisher", "operator_key"]

log = logging.getLogger(__name__)

_PAGE_SIZE = 5_000  # index rows read per query


def operator_key(settings: Settings, chain_id: int) -> SigningKey:
    """The operator's status list key: the configured key file, or on the dev chain a dev key generated
    once under the data directory."""
    if settings.status_list_key is not None:
        password = os.environ.get(settings.status_list_password_env)
        return load_signing_key(settings.status_list_key, password.encode() if password else None)
    if chain_id != DEV_CHAIN_ID:
        raise ConfigError(
            f"chain {chain_id} is not the dev chain: give the operator's status list key in "
            f"CREDREG_STATUS_LIST_KEY (a PKCS#8 PEM Ed25519 key; password in ${settings.status_list_password_env})"
        )
    path = settings.data_dir / DEV_KEY_FILE
    if not path.exists():
        _write_dev_key(path)
    return load_signing_key(path)


def _write_dev_key(path: Path) -> None:
    key = generate_key()
    pem = key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first; use theirs
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    log.info("generated the dev chain's status list key %s", path)


@dataclass(frozen=True)
class PublishedList:
    """One signed list credential, its bytes as served, and its ETag."""

    credential: dict[str, Any]
    body: bytes
    etag: str


@dataclass
class PublishedLists:
    """The lists as of `block` (the last indexed block), signed at `issued_at`."""

    block: int
    issued_at: int
    ledger: LedgerLists
    signed: dict[tuple[str, StatusPurpose, int], PublishedList] = field(default_factory=dict)
    inputs: tuple[int, int, int] = (-1, -1, 0)

    @property
    def unknown(self) -> tuple[tuple[int, str], ...]:
        return self.ledger.unknown


class StatusListPublisher:
    """Rebuilds the lists from the index when it has moved on, and signs each page once per rebuild."""

    def __init__(self, db: Database, index: EventIndex, key: SigningKey) -> None:
        self.db = db
        self.index = index
        self.key = key
        self._lock = threading.Lock()
        self._building = threading.Lock()
        self._current: PublishedLists | None = None

    def lists(self) -> PublishedLists:
        """The lists as of the index's last block; rebuilt only when a status or issuance event, or a
        batch's leaves, arrived since (a new block alone only moves the as-of block)."""
        block = self.index.indexed_to()
        with self._lock:
            current = self._current
        if current is not None and current.block == block:
            return current
        with self._building:  # one rebuild at a time: the others wait for it and take its lists
            with self._lock:
                current = self._current
            if current is not None and current.block == block:
                return current
            inputs = self._inputs(block)
            if current is not None and current.inputs == inputs:
                moved = PublishedLists(block, current.issued_at, current.ledger, current.signed, inputs)
                with self._lock:
                    self._current = moved
                return moved
            rebuilt = self._rebuild(block, inputs, current.ledger if current is not None else None)
            with self._lock:
                self._current = rebuilt
            return rebuilt

    def _inputs(self, block: int) -> tuple[int, int, int]:
        """What the lists depend on, in brief: the last relevant event's (block, log index), and the number
        of known leaves."""
        with self.db.session() as session:
            last = session.execute(
                select(LedgerEventRow.block_number, LedgerEventRow.log_index)
                .where(LedgerEventRow.name.in_(STATUS_EVENTS), LedgerEventRow.block_number <= block)
                .order_by(LedgerEventRow.block_number.desc(), LedgerEventRow.log_index.desc())
                .limit(1)
            ).first()
            leaves = int(session.scalar(select(func.count()).select_from(BatchLeaf)) or 0)
        return (int(last[0]), int(last[1]), leaves) if last else (-1, -1, leaves)

    def _rebuild(
        self, block: int, inputs: tuple[int, int, int], previous: LedgerLists | None
    ) -> PublishedLists:
        """The lists as of `block`. A batch the `previous` lists hold keeps its tree (its leaves make its
        root, so they cannot change); the others' leaves are read from the database: all at once on the first
        build, else batch by batch."""
        rows = []
        after: tuple[int, int] | None = None
        while True:
            page = self.index.events(
                EventQuery(names=STATUS_EVENTS, to_block=block, after=after, limit=_PAGE_SIZE)
            )
            rows += page
            if len(page) < _PAGE_SIZE:
                break
            after = (page[-1].block_number, page[-1].log_index)
        trees = {(b.agency_id, b.root.lower()): b.tree for b in previous.batches} if previous else {}
        leaves = self._packed_leaves() if not trees else {}
        listed = self._listed() if trees else {}

        def leaves_of(agency_id: int, root: str) -> MerkleTree | bytes | None:
            key = (agency_id, root.lower())
            if not trees:
                # Each batch's packed leaves become its tree's first level: let go of them here.
                return leaves.pop(key, None)
            if key in trees:
                return trees[key]
            stored = listed.get(key)  # the root as the database spells it
            return None if stored is None else self._packed_leaves((agency_id, stored)).get(key)

        ledger = lists_from_events(
            ((r.name, r.block_number, r.log_index, r.args_dict()) for r in rows), leaves_of
        )
        issued_at = rows[-1].block_time if rows else 0
        return PublishedLists(block, issued_at, ledger, {}, inputs)

    def _listed(self) -> dict[tuple[int, str], str]:
        """The batches whose leaves the database holds: (agency id, lower-case root) -> the root as stored."""
        with self.db.session() as session:
            rows = session.execute(select(BatchLeaf.agency_id, BatchLeaf.root).distinct())
            return {(int(agency_id), str(root).lower()): str(root) for agency_id, root in rows}

    def _packed_leaves(self, only: tuple[int, str] | None = None) -> dict[tuple[int, str], bytes]:
        """Every known batch's leaves (or `only` this batch's), packed (32 bytes each) in tree order as the
        database reads them back a run of rows at a time: no Python object is held a leaf."""
        leaves: dict[tuple[int, str], bytes] = {}
        key: tuple[int, str] | None = None
        packed = bytearray()
        query = select(BatchLeaf.agency_id, BatchLeaf.root, BatchLeaf.leaf)
        if only is not None:
            query = query.where(BatchLeaf.agency_id == only[0], BatchLeaf.root == only[1])
        with self.db.session() as session:
            rows = session.execute(
                query.order_by(BatchLeaf.agency_id, BatchLeaf.root, BatchLeaf.leaf).execution_options(
                    yield_per=_PAGE_SIZE
                )
            )
            for agency_id, root, leaf in rows:
                at = (int(agency_id), str(root).lower())
                if at != key:
                    if key is not None:
                        leaves[key] = bytes(packed)
                    key, packed = at, bytearray()
                packed += bytes.fromhex(str(leaf)[2:])
        if key is not None:
            leaves[key] = bytes(packed)
        return leaves

    def credential(
        self, base_url: str, purpose: StatusPurpose, page: int
    ) -> tuple[PublishedList, int] | None:
        """Page `page` of the `purpose` list published under `base_url`, with the block it is as of; None if
        there is no such page."""
        current = self.lists()
        if page >= current.ledger.lists.pages:
            return None
        key = (base_url, purpose, page)
        with self._lock:
            done = current.signed.get(key)
        if done is None:
            credential = status_list_credential(
                base_url=base_url,
                purpose=purpose,
                page=page,
                bitstring=current.ledger.lists.bits[purpose][page],
                key=self.key,
                issued_at=current.issued_at,
            )
            body = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode()
            done = PublishedList(credential, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            with self._lock:
                current.signed[key] = done
        return done, current.block
