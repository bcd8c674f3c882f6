"""Is the code at an address exactly what `contracts/` compiles to?

Deployed runtime code differs from the compiled `deployedBytecode` in two legitimate ways: immutables
(EIP-712 caches the chain id and the contract's own address) are filled in at deployment, and the compiler
appends a CBOR metadata blob whose hash covers the sources' exact text. We blank the immutables on both
sides, then compare the executable part and the metadata separately, so that "different code" and "same
code, different source text" are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credreg.chain.artifacts import Artifact


class Provenance(StrEnum):
    IDENTICAL = "identical"
    METADATA_DIFFERS = "metadata-differs"
    CODE_DIFFERS = "code-differs"
    NO_CODE = "no-code"


@dataclass(frozen=True)
class ProvenanceReport:
    verdict: Provenance
    detail: str

    @property
    def ok(self) -> bool:
        return self.verdict is Provenance.IDENTICAL


def split_metadata(code: bytes) -> tuple[bytes, bytes]:
    """(executable code, CBOR metadata) using the 2-byte length solc appends."""
    if len(code) < 2:
        return code, b""
    length = int.from_bytes(code[-2:], "big")
    if length + 2 > len(code):
        return code, b""
    return code[: -(length + 2)], code[-(length + 2) :]


def blank_immutables(code: bytes, references: dict[str, Any]) -> bytes:
    mutable = bytearray(code)
    for ranges in references.values():
        for ref in ranges:
            start, length = int(ref["start"]), int(ref["length"])
            mutable[start : start + length] = bytes(length)
    return bytes(mutable)


def compare_runtime(deployed: bytes, artifact: Artifact) -> ProvenanceReport:
    if not deployed:
        return ProvenanceReport(Provenance.NO_CODE, "there is no contract code at the address")
    expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    if len(deployed) != len(expected):
        return ProvenanceReport(
            Provenance.CODE_DIFFERS,
            f"deployed code is {len(deployed)} bytes, {artifact.name} compiles to {len(expected)} bytes",
        )
    ours = blank_immutables(deployed, artifact.immutable_references)
    theirs = blank_immutables(expected, artifact.immutable_references)
    our_code, our_meta = split_metadata(ours)
    their_code, their_meta = split_metadata(theirs)
    if our_code != their_code:
        first = next(i for i, (a, b) in enumerate(zip(our_code, their_code, strict=False)) if a != b)
        return ProvenanceReport(Provenance.CODE_DIFFERS, f"executable code differs from byte {first} on")
    if our_meta != their_meta:
        return ProvenanceReport(
            Provenance.METADATA_DIFFERS,
            "same executable code, but the metadata hash differs: the source text or settings differ",
        )
    return ProvenanceReport(
        Provenance.IDENTICAL, f"matches {artifact.name} compiled with solc {artifact.compiler_version}"
    )
