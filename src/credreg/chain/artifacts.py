"""Compiled contract artifacts shipped inside the package (see `credreg.chain.build`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from credreg.documents._keccak import keccak256
from credreg.errors import ConfigError


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    settings: dict[str, Any]
    metadata: str
    immutable_references: dict[str, Any]

    @property
    def bytecode_hash(self) -> str:
        return "0x" + keccak256(bytes.fromhex(self.bytecode.removeprefix("0x"))).hex()

    @property
    def deployed_bytecode_hash(self) -> str:
        return "0x" + keccak256(bytes.fromhex(self.deployed_bytecode.removeprefix("0x"))).hex()


@cache
def load_artifact(name: str) -> Artifact:
    """The compiled artifact of contract `name`, for example `CredentialRegistry`."""
    try:
        text = resources.files("credreg.chain").joinpath("artifacts", f"{name}.json").read_text("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"no compiled artifact for contract {name!r}; run `python -m credreg.chain.build`"
        ) from exc
    raw = json.loads(text)
    return Artifact(
        name=raw["contractName"],
        abi=raw["abi"],
        bytecode=raw["bytecode"],
        deployed_bytecode=raw["deployedBytecode"],
        compiler_version=raw["compiler"]["version"],
        settings=raw["compiler"]["settings"],
        metadata=raw["metadata"],
        immutable_references=raw.get("immutableReferences", {}),
    )
