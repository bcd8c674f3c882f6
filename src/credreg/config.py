"""All settings in one place: environment variables prefixed `CREDREG_`, or a `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CHAIN_PORT = 8545


class Settings(BaseSettings):
    """Where the data lives, which chain to talk to, and how the service listens."""

    model_config = SettingsConfigDict(env_prefix="CREDREG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".credreg"), description="Directory for chain state, manifest, database.")
    rpc_url: str | None = Field(
        None, description="JSON-RPC endpoint; by default the embedded dev chain on chain_host:chain_port."
    )
    chain_host: str = "127.0.0.1"
    chain_port: int = Field(DEFAULT_CHAIN_PORT, ge=1, le=65535)
    manifest: Path | None = Field(
        None, description="Deployment manifest; default <data_dir>/deployment.json."
    )
    confirmations: int = Field(0, ge=0, le=64, description="Blocks to wait before a transaction counts.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite under data_dir.")
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)

    @property
    def effective_rpc_url(self) -> str:
        return self.rpc_url or f"http://{self.chain_host}:{self.chain_port}"

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.data_dir / "deployment.json"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'credreg.sqlite3').resolve()}"
