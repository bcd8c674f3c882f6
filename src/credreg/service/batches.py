"""Leaves of batches an agency issued straight to the ledger, handed in afterwards with a signature.

The ledger keeps batch roots, so a certificate's own hash can only be looked up when its batch's leaves are
known. Batches relayed through the service bring their leaves (`POST /v1/issuances`); a batch issued directly
is listed here from a `SignedBatchLeaves` upload (`POST /v1/batches`, `credreg batch upload`), checked against
the ledger: the signer is a key of the agency, the root is recorded in that agency's namespace, and the leaves
build that root. The leaves then go into the same table the relayed batches use.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credreg.registry import SignedBatchLeaves, leaves_hash
from credreg.service.db import BatchLeaf
from credreg.service.intake import RequestRefused
from credreg.service.outbox import Outbox


@dataclass(frozen=True)
class BatchListed:
    agency_id: int
    root: str
    leaves: int
    added: int  # 0 when every leaf was known already


def list_batch(outbox: Outbox, upload: SignedBatchLeaves) -> BatchListed:
    """Check `upload` against the ledger and keep its leaves with the outbox's (see the module docstring)."""
    db, registry, req = outbox.db, outbox.registry, upload.request
    if (
        upload.chain_id != registry.domain.chain_id
        or to_checksum_address(upload.registry) != registry.address
    ):
        raise RequestRefused(
            "wrong-domain",
            "registry",
            f"signed for chain {upload.chain_id}, registry {upload.registry}; this service serves chain "
            f"{registry.domain.chain_id}, registry {registry.address}",
        )
    if leaves_hash(upload.leaves) != req.leaves_hash.lower():
        raise RequestRefused(
            "invalid-leaves", "leaves", "the leaves are not the ones signed for (their hash differs)"
        )
    if not upload.leaves:
        raise RequestRefused("invalid-leaves", "leaves", "no leaves: list every leaf of the batch")
    # The same check, and the same limit, as for the leaves of a relayed issuance.
    leaves = outbox.check_leaves(req.root.lower(), upload.leaves)
    signer = upload.signer()
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
