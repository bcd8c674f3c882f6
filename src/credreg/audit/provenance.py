"""Is the deployed contract what `contracts/` compiles to? The audit's answer, with what it compared against.

The reference is a fresh compilation of the checkout's `contracts/` with the pinned compiler and settings
(`credreg.chain.build`), so an auditor trusts the source they can read rather than a committed binary.
Where the compiler cannot run (no Node.js, no checkout), the committed artifact is the reference and the
report says so.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Literal

from pydantic import BaseModel
from web3 import Web3

from credreg.chain.artifacts import Artifact, load_artifact
from credreg.chain.build import SOLC_VERSION, compile_sources, standard_json_input
from credreg.chain.client import rpc_url_of, with_retries
from credreg.chain.provenance import compare_runtime
from credreg.errors import ToolchainError
from credreg.paths import project_root

REGISTRY_SOURCE = "contracts/CredentialRegistry.sol"
REGISTRY_CONTRACT = "CredentialRegistry"

_compiled: dict[str, dict[str, Any]] = {}
_compile_lock = threading.Lock()


class ProvenanceResult(BaseModel):
    """The verdict of comparing deployed runtime code with a reference build."""

    address: str
    block: int
    verdict: str
    ok: bool
    detail: str
    reference: Literal["recompiled", "artifact"]
    reference_detail: str
    artifact_verdict: str | None = None


def compile_cached(input_json: dict[str, Any]) -> dict[str, Any]:
    """`compile_sources(input_json=...)`, once per distinct input in this process (a build takes seconds)."""
    key = hashlib.sha256(json.dumps(input_json, sort_keys=True).encode()).hexdigest()
    with _compile_lock:
        if key not in _compiled:
            _compiled[key] = compile_sources(input_json=input_json)
        return _compiled[key]


def artifact_from_output(output: dict[str, Any], source: str, name: str) -> Artifact:
    compiled = output["contracts"][source][name]
    evm = compiled["evm"]
    return Artifact(
        name=name,
        abi=compiled["abi"],
        bytecode="0x" + evm["bytecode"]["object"],
        deployed_bytecode="0x" + evm["deployedBytecode"]["object"],
        compiler_version=SOLC_VERSION,
        settings=dict(input_json_settings(output)),
        metadata=compiled.get("metadata", ""),
        immutable_references=evm["deployedBytecode"].get("immutableReferences", {}),
    )


def input_json_settings(output: dict[str, Any]) -> dict[str, Any]:
    # The compiler's output does not repeat the settings; the metadata does.
    for contracts in output.get("contracts", {}).values():
        for compiled in contracts.values():
            metadata = compiled.get("metadata")
            if metadata:
                settings: dict[str, Any] = json.loads(metadata).get("settings", {})
                return settings
    return {}


def recompiled_registry() -> Artifact:
    """CredentialRegistry as the checkout's `contracts/` compiles now (raises ToolchainError if it cannot)."""
    return artifact_from_output(
        compile_cached(standard_json_input(project_root())), REGISTRY_SOURCE, REGISTRY_CONTRACT
    )


def check_provenance(w3: Web3, address: str, block: int, *, recompile: bool = True) -> ProvenanceResult:
    """Compare the runtime code at `address` (as of `block`) with the registry built from source."""
    code = bytes(
        with_retries(
            lambda: w3.eth.get_code(Web3.to_checksum_address(address), block),
            what="eth_getCode",
            url=rpc_url_of(w3),
        )
    )
    committed = load_artifact(REGISTRY_CONTRACT)
    settings = committed.settings
    build = (
        f"solc {SOLC_VERSION}, EVM {settings.get('evmVersion')}, optimizer runs "
        f"{settings.get('optimizer', {}).get('runs')}"
    )
    artifact_report = compare_runtime(code, committed)
    if recompile:
        try:
            reference = recompiled_registry()
        except ToolchainError as exc:
            reason = f"compiler unavailable ({exc}); compared with the committed artifact instead"
        else:
            report = compare_runtime(code, reference)
            return ProvenanceResult(
                address=address,
                block=block,
                verdict=str(report.verdict),
                ok=report.ok,
                detail=report.detail,
                reference="recompiled",
                reference_detail=f"contracts/ recompiled now ({build})",
                artifact_verdict=str(artifact_report.verdict),
            )
    else:
        reason = "recompilation not requested; compared with the committed artifact"
    return ProvenanceResult(
        address=address,
        block=block,
        verdict=str(artifact_report.verdict),
        ok=artifact_report.ok,
        detail=artifact_report.detail,
        reference="artifact",
        reference_detail=f"{reason} ({build})",
        artifact_verdict=str(artifact_report.verdict),
    )
