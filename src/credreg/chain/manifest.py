"""The deployment manifest: which chain, which contract address, from which block, built how.

Every command reads it to find the registry; it is written once by `credreg deploy` (atomically, so a
crash never leaves half a file).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credreg.errors import ConfigError


class DeployedContract(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    deployment_block: int = Field(ge=0)
    transaction_hash: str
    bytecode_hash: str
    deployed_bytecode_hash: str


class Manifest(BaseModel):
    """Where the credential registry lives and how it was built."""

    model_config = ConfigDict(frozen=True)

    chain_id: int
    registry: DeployedContract
    governor: str
    contract_version: str
    compiler_version: str
    evm_version: str
    optimizer_runs: int
    credreg_version: str
    deployed_at: datetime

    @property
    def registry_address(self) -> str:
        return self.registry.address

    @property
    def deployment_block(self) -> int:
        return self.registry.deployment_block

    def save(self, path: Path) -> None:
        write_atomically(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigError(
                f"no deployment manifest at {path}; deploy first with `credreg deploy` "
                f"(or point CREDREG_MANIFEST at an existing one)"
            ) from exc
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(document)"
            raise ConfigError(
                f"the deployment manifest {path} is invalid at {where}: {first['msg']}"
            ) from exc


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))
