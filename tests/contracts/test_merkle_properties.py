"""Property tests: for random batches, every leaf proves on chain and every tampered proof fails."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from registry_harness import Harness

from credreg.chain.states import Verdict
from credreg.documents.merkle import MerkleTree

# A zero hash is no document's target hash (and a zero root is refused), so leaves are never zero.
hashes = st.binary(min_size=32, max_size=32).filter(any)
leaves_strategy = st.sets(hashes, min_size=1, max_size=33)

PROPERTY_SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _issued(reg: Harness, leaves: set[bytes]) -> MerkleTree:
    tree = MerkleTree(leaves)
    if not reg.call("isIssued", reg.agency_id, tree.root):
        reg.issue(tree.root)
    return tree


@PROPERTY_SETTINGS
@given(leaves=leaves_strategy)
@example(leaves={bytes([1]) * 32})
@example(leaves={bytes([i]) * 32 for i in range(1, 4)})
def test_every_leaf_of_a_random_batch_proves_on_chain(deployed: Harness, leaves: set[bytes]) -> None:
    tree = _issued(deployed, leaves)
    for leaf in tree.leaves:
        assert deployed.verdict(tree.root, leaf, tree.proof(leaf)) == Verdict.VALID


@PROPERTY_SETTINGS
@given(leaves=leaves_strategy.filter(lambda s: len(s) >= 2), data=st.data())
def test_tampered_proofs_fail_on_chain(deployed: Harness, leaves: set[bytes], data: st.DataObject) -> None:
    tree = _issued(deployed, leaves)
    leaf = data.draw(st.sampled_from(tree.leaves), label="leaf")
    proof = tree.proof(leaf)
    position = data.draw(st.integers(0, len(proof) - 1), label="sibling")
    bit = data.draw(st.integers(0, 255), label="bit")

    flipped = bytearray(proof[position])
    flipped[bit // 8] ^= 1 << (bit % 8)
    tampered = [*proof[:position], bytes(flipped), *proof[position + 1 :]]
    assert deployed.verdict(tree.root, leaf, tampered) == Verdict.INVALID_PROOF

    assert deployed.verdict(tree.root, leaf, proof[:-1]) == Verdict.INVALID_PROOF
    assert deployed.verdict(tree.root, leaf, [*proof, proof[-1]]) == Verdict.INVALID_PROOF

    stranger_leaf = bytes(flipped) if bytes(flipped) not in tree else bytes(32)
    assert deployed.verdict(tree.root, stranger_leaf, proof) == Verdict.INVALID_PROOF
