"""The committed artifacts are exactly what the pinned compiler makes of contracts/, for a London-level EVM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from credreg.chain.build import ARTIFACTS_DIR, EVM_VERSION, SOLC_VERSION, build

PUSH1, PUSH32 = 0x60, 0x7F
# Instructions that permissioned chains on older milestones reject: BASEFEE (London, absent from Berlin-level
# EVMs), PUSH0 (Shanghai), TLOAD/TSTORE/MCOPY/BLOBHASH/BLOBBASEFEE (Cancun).
NEWER_OPCODES = {0x48: "BASEFEE", 0x5F: "PUSH0", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY"}
NEWER_OPCODES |= {0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE"}


def committed_artifacts() -> list[dict[str, Any]]:
    artifacts = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(ARTIFACTS_DIR.glob("*.json"))]
    assert artifacts, f"no artifacts in {ARTIFACTS_DIR}: run `python -m credreg.chain.build`"
    return artifacts


def opcodes(code: bytes) -> Iterator[int]:
    """Each instruction of `code`, stepping over PUSH data."""
    i = 0
    while i < len(code):
        op = code[i]
        yield op
        i += 1 + (op - PUSH1 + 1 if PUSH1 <= op <= PUSH32 else 0)


def without_metadata(code: bytes) -> bytes:
    """Runtime code minus the CBOR metadata solc appends (its length is in the last two bytes)."""
    return code[: -(int.from_bytes(code[-2:], "big") + 2)]


@pytest.mark.slow
def test_recompiling_contracts_reproduces_the_committed_artifacts_byte_for_byte() -> None:
    stale = build(check=True)

    assert stale == [], f"stale artifacts {stale}: run `python -m credreg.chain.build` and commit the result"


def test_artifacts_record_the_pinned_compiler_and_evm_version() -> None:
    for artifact in committed_artifacts():
        metadata = json.loads(artifact["metadata"])
        assert metadata["compiler"]["version"].startswith(f"{SOLC_VERSION}+commit."), artifact["contractName"]
        assert metadata["settings"]["evmVersion"] == EVM_VERSION, artifact["contractName"]
        assert artifact["compiler"]["settings"]["evmVersion"] == EVM_VERSION


def test_bytecode_uses_no_instruction_newer_than_the_target_chains_run() -> None:
    for artifact in committed_artifacts():
        runtime = bytes.fromhex(artifact["deployedBytecode"][2:])
        creation = bytes.fromhex(artifact["bytecode"][2:])
        # The runtime code follows the constructor verbatim; a reader that is never deployed (its constructor
        # returns its answer) has none to follow.
        at = creation.find(runtime)
        constructor = creation[:at] if at >= 0 else creation
        for part, code in (("runtime", without_metadata(runtime)), ("constructor", constructor)):
            found = sorted({NEWER_OPCODES[op] for op in opcodes(code) if op in NEWER_OPCODES})
            assert found == [], f"{artifact['contractName']} {part} code uses {found}"
