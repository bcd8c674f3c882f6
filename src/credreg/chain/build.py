"""Compile `contracts/` into the JSON artifacts the package loads at run time.

The artifacts are committed, so running credreg needs no Node.js; `tests/contracts/test_artifacts.py`
recompiles and checks they match byte for byte. Rebuild after changing a contract:

    python -m credreg.chain.build          # write src/credreg/chain/artifacts/*.json
    python -m credreg.chain.build --check  # exit 1 if they are stale
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from credreg.errors import ToolchainError
from credreg.paths import project_root

SOLC_VERSION = "0.8.37"
EVM_VERSION = "london"
OPTIMIZER_RUNS = 10_000

# One set of settings for every build, so provenance checks can recompile exactly what was deployed.
COMPILER_SETTINGS: dict[str, Any] = {
    "evmVersion": EVM_VERSION,
    "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
    "viaIR": True,
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
                "metadata",
            ]
        }
    },
}

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"


def solc_wrapper() -> Path:
    return project_root() / "scripts" / "solc"


def standard_json_input(root: Path) -> dict[str, Any]:
    sources = {
        path.relative_to(root).as_posix(): {"content": path.read_text(encoding="utf-8")}
        for path in sorted((root / "contracts").rglob("*.sol"))
    }
    if not sources:
        raise ToolchainError(f"no Solidity sources under {root / 'contracts'}")
    return {"language": "Solidity", "sources": sources, "settings": COMPILER_SETTINGS}


def compile_sources(root: Path | None = None, input_json: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the pinned compiler on the project's sources (or on `input_json`) and return its output."""
    root = root or project_root()
    payload = json.dumps(input_json or standard_json_input(root))
    try:
        done = subprocess.run(
            [str(solc_wrapper()), "--standard-json", "--base-path", str(root)],
            input=payload,
            capture_output=True,
            text=True,
            check=False,
            cwd=root,
            timeout=600,
        )
    except FileNotFoundError as exc:
        raise ToolchainError(f"cannot run the Solidity compiler: {exc}") from exc
    if done.returncode != 0:
        raise ToolchainError(f"the Solidity compiler failed: {done.stderr.strip()}")
    output: dict[str, Any] = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ToolchainError("compilation failed:\n" + "\n".join(e["formattedMessage"] for e in errors))
    return output


def artifacts_from_output(output: dict[str, Any]) -> dict[str, str]:
    """Artifact file name → exact file text, for every deployable contract under contracts/."""
    files: dict[str, str] = {}
    for source_name, contracts in sorted(output["contracts"].items()):
        if not source_name.startswith("contracts/"):
            continue
        for name, compiled in sorted(contracts.items()):
            bytecode = compiled["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts
            artifact = {
                "contractName": name,
                "sourceName": source_name,
                "compiler": {"version": SOLC_VERSION, "settings": _artifact_settings()},
                "abi": compiled["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "immutableReferences": compiled["evm"]["deployedBytecode"].get("immutableReferences", {}),
                "metadata": compiled["metadata"],
            }
            files[f"{name}.json"] = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
    return files


def _artifact_settings() -> dict[str, Any]:
    return {k: v for k, v in COMPILER_SETTINGS.items() if k != "outputSelection"}


def build(check: bool = False) -> list[str]:
    """Write (or, with `check`, compare) the artifacts; return the names that differ."""
    files = artifacts_from_output(compile_sources())
    stale = [
        name
        for name, text in files.items()
        if not (ARTIFACTS_DIR / name).exists() or (ARTIFACTS_DIR / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(p.name for p in ARTIFACTS_DIR.glob("*.json") if p.name not in files)
    if check:
        return stale + extra
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in extra:
        (ARTIFACTS_DIR / name).unlink()
    for name in stale:
        (ARTIFACTS_DIR / name).write_text(files[name], encoding="utf-8")
    return stale + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compile contracts/ into src/credreg/chain/artifacts/.")
    parser.add_argument("--check", action="store_true", help="only report whether the artifacts are stale")
    args = parser.parse_args(argv)
    try:
        changed = build(check=args.check)
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check and changed:
        print("stale artifacts: " + ", ".join(changed), file=sys.stderr)
        return 1
    print(("stale: " if args.check else "written: ") + (", ".join(changed) or "nothing, all current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
