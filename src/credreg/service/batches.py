"""Leaves of batches an agency issued straight to the ledger, handed in afterwards with a signature.

The ledger keeps batch roots, so a certificate's own hash can only be looked up when its batch's leaves are
known. Batches relayed through the service bring their leaves (`POST /v1/issuances`); a batch issued directly
is listed here from a `SignedBatchLeaves` upload (`POST /v1/batches`, `credreg batch upload`), checked against
the ledger: the signer is a key of the agency, the root is recorded in that agency's namespace, and the leaves
build that root. The leaves then go into the same table the relayed batches use.

A batch too large for one request comes in parts (`credreg.service.uploads`) and is kept with the roots of
its chunks of `CHUNK` leaves in tree order: a leaf's proof is then its chunk's proof and the chunks' tree's,
read without the rest of the batch (`proof_of`). A level with an odd number of nodes promotes its last one,
so a tree's nodes `CHUNK` leaves up are exactly its chunks' roots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_utils.address import to_checksum_address
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credreg.chain.eip712 import BatchLeavesRequest, CompactSignature, Domain, recover
from credreg.documents.merkle import MerkleTree, combine
from credreg.registry import SignedBatchLeaves, leaves_hash
from credreg.service.db import BatchChunk, BatchLeaf, Database
from credreg.service.intake import RequestRefused
from credreg.service.outbox import Outbox


@dataclass(frozen=True)
class BatchListed:
    agency_id: int
    root: str
    leaves: int
    added: int  # 0 when every leaf was known already


def _check_domain(outbox: Outbox, chain_id: int, registry_address: str) -> None:
    registry = outbox.registry
    if chain_id != registry.domain.chain_id or to_checksum_address(registry_address) != registry.address:
        raise RequestRefused(
            "wrong-domain",
            "registry",
            f"signed for chain {chain_id}, registry {registry_address}; this service serves chain "
            f"{registry.domain.chain_id}, registry {registry.address}",
        )


def check_signed(
    outbox: Outbox,
    chain_id: int,
    registry_address: str,
    req: BatchLeavesRequest,
    signature: CompactSignature,
) -> str:
    """The signer of a `BatchLeaves` request, once it is known to be for this registry, by a key of the
    agency, for a root recorded in that agency's namespace (else `RequestRefused`)."""
    registry = outbox.registry
    _check_domain(outbox, chain_id, registry_address)
    try:
        signer = to_checksum_address(
            recover(Domain(chain_id=chain_id, registry=registry_address), req, signature)
        )
    except Exception as exc:  # eth-keys raises several types for unusable signatures
        raise RequestRefused(
            "invalid-signature", "signature", f"the signature does not recover to any key: {exc}"
        ) from None
    holder = registry.signer(signer).agency_id
    if holder != req.agency_id:
        whose = f"a key of agency {holder}" if holder else "not a key of any agency"
        raise RequestRefused(
            "signer-not-of-agency",
            "signature",
            f"the signature is by {signer}, {whose}; sign with a signer key of agency {req.agency_id}",
        )
    if not registry.is_issued(req.agency_id, req.root):
        raise RequestRefused(
            "not-issued",
            "request.root",
            f"root {req.root} is not recorded on the ledger in agency {req.agency_id}'s namespace",
        )
    return signer


def list_batch(outbox: Outbox, upload: SignedBatchLeaves) -> BatchListed:
    """Check `upload` against the ledger and keep its leaves with the outbox's (see the module docstring)."""
    db, req = outbox.db, upload.request
    _check_domain(outbox, upload.chain_id, upload.registry)
    if leaves_hash(upload.leaves) != req.leaves_hash.lower():
        raise RequestRefused(
            "invalid-leaves", "leaves", "the leaves are not the ones signed for (their hash differs)"
        )
    if not upload.leaves:
        raise RequestRefused("invalid-leaves", "leaves", "no leaves: list every leaf of the batch")
    limit = outbox.intake.max_leaves
    if len(upload.leaves) > limit:
        raise RequestRefused(
            "batch-too-large",
            "leaves",
            f"at most {limit} leaves per request; send a larger batch in parts (POST /v1/batches/uploads, "
            "as `credreg batch upload` does)",
        )
    # The same check, and the same limit, as for the leaves of a relayed issuance.
    leaves = outbox.check_leaves(req.root.lower(), upload.leaves)
    check_signed(outbox, upload.chain_id, upload.registry, req, upload.signature)
    root = req.root.lower()
    with db.session() as session:
        known = set(
            session.scalars(
                select(BatchLeaf.leaf).where(BatchLeaf.agency_id == req.agency_id, BatchLeaf.root == root)
            ).all()
        )
    new = [leaf for leaf in leaves if leaf not in known]
    if new:
        try:
            with db.session() as session:
                session.add_all(BatchLeaf(agency_id=req.agency_id, root=root, leaf=leaf) for leaf in new)
        except IntegrityError:
            # The same batch arrived twice at once: the leaves were checked against the root, so whichever
            # upload wrote them wrote the same rows.
            new = []
    return BatchListed(agency_id=req.agency_id, root=root, leaves=len(leaves), added=len(new))


CHUNK = 4096  # leaves a chunk holds: a proof reads one chunk (260 KB of hex) and the chunks' roots


def _levels(nodes: list[bytes]) -> list[list[bytes]]:
    """The tree over `nodes` in the order given (not sorted), level by level, the last node promoted."""
    levels = [nodes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [combine(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def _proof_at(levels: list[list[bytes]], index: int) -> list[bytes]:
    siblings = []
    for level in levels[:-1]:
        if (index ^ 1) < len(level):
            siblings.append(level[index ^ 1])
        index >>= 1
    return siblings


def chunk_roots(runs: Iterable[list[str]], chunk: int = CHUNK) -> tuple[str, list[tuple[int, str, str]]]:
    """The merkle root of leaves given in tree order (sorted, 0x-hex, in runs of any size), and its chunks:
    (number, first leaf, root) of every `chunk` leaves. Holds one chunk and the chunks' roots at a time."""
    chunks: list[tuple[int, str, str]] = []
    nodes: list[bytes] = []
    pending: list[str] = []

    def close() -> None:
        tree = MerkleTree(bytes.fromhex(leaf[2:]) for leaf in pending)
        chunks.append((len(chunks), pending[0], "0x" + tree.root.hex()))
        nodes.append(tree.root)
        pending.clear()

    for run in runs:
        for leaf in run:
            pending.append(leaf)
            if len(pending) == chunk:
                close()
    if pending:
        close()
    if not nodes:
        return "0x" + "00" * 32, []
    return "0x" + _levels(nodes)[-1][0].hex(), chunks


def write_chunks(session: Session, agency: int, root: str, chunks: list[tuple[int, str, str]]) -> None:
    """Keep a batch's chunks, unless it has them already (the same leaves make the same chunks)."""
    have = session.scalar(
        select(func.count())
        .select_from(BatchChunk)
        .where(BatchChunk.agency_id == agency, BatchChunk.root == root)
    )
    if have or not chunks:
        return
    session.execute(
        insert(BatchChunk),
        [
            {"agency_id": agency, "root": root, "chunk_no": no, "first_leaf": first, "node": node}
            for no, first, node in chunks
        ],
    )


def count_leaves(session: Session, agency: int, root: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(BatchLeaf)
            .where(BatchLeaf.agency_id == agency, BatchLeaf.root == root.lower())
        )
        or 0
    )


def leaf_count(db: Database, agency: int, root: str) -> int:
    with db.session() as session:
        return count_leaves(session, agency, root)


def has_leaf(db: Database, agency: int, root: str, leaf: str) -> bool:
    with db.session() as session:
        return session.get(BatchLeaf, (agency, root.lower(), leaf.lower())) is not None


def proof_of(db: Database, agency: int, root: str, leaf: str, chunk: int = CHUNK) -> list[str] | None:
    """The merkle proof of `leaf` in the batch (0x-hex siblings), or None if it is not one of its leaves.

    A batch kept with chunks is read one chunk and the chunks' roots at a time; one without (at most the
    service's `max_leaves` leaves, from one request) is read whole."""
    root, leaf = root.lower(), leaf.lower()
    if not has_leaf(db, agency, root, leaf):
        return None
    mine = (BatchLeaf.agency_id == agency, BatchLeaf.root == root)
    with db.session() as session:
        at = session.execute(
            select(BatchChunk.chunk_no, BatchChunk.first_leaf)
            .where(BatchChunk.agency_id == agency, BatchChunk.root == root, BatchChunk.first_leaf <= leaf)
            .order_by(BatchChunk.first_leaf.desc())
            .limit(1)
        ).first()
        if at is None:
            leaves = session.scalars(select(BatchLeaf.leaf).where(*mine)).all()
            tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
            return ["0x" + p.hex() for p in tree.proof(bytes.fromhex(leaf[2:]))]
        number, first = at
        run = session.scalars(
            select(BatchLeaf.leaf).where(*mine, BatchLeaf.leaf >= first).order_by(BatchLeaf.leaf).limit(chunk)
        ).all()
        nodes = session.scalars(
            select(BatchChunk.node)
            .where(BatchChunk.agency_id == agency, BatchChunk.root == root)
            .order_by(BatchChunk.chunk_no)
        ).all()
    inner = MerkleTree(bytes.fromhex(x[2:]) for x in run).proof(bytes.fromhex(leaf[2:]))
    outer = _proof_at(_levels([bytes.fromhex(n[2:]) for n in nodes]), number)
    return ["0x" + p.hex() for p in inner + outer]


def leaves_page(db: Database, agency: int, root: str, after: str | None, limit: int) -> list[str]:
    """Up to `limit` of the batch's leaves in tree order, from the first one after `after` (keyset paging:
    a page costs the same wherever it is in a batch of any size)."""
    query = select(BatchLeaf.leaf).where(BatchLeaf.agency_id == agency, BatchLeaf.root == root.lower())
    if after is not None:
        query = query.where(BatchLeaf.leaf > after.lower())
    with db.session() as session:
        return list(session.scalars(query.order_by(BatchLeaf.leaf).limit(limit)).all())
