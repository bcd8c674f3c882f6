"""All settings in one place: environment variables prefixed `CREDREG_`, or a `.env` file."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CHAIN_PORT = 8545
DEFAULT_TIME_ZONE = "Asia/Shanghai"
# The most requests credreg puts in one JSON-RPC batch (registry.STATUS_BATCH, the audit's header and view
# batches); a node must accept at least this many.
LARGEST_BATCH_SENT = 500


@dataclass(frozen=True)
class NodeLimits:
    """The JSON-RPC limits of a kind of node, as it ships (see docs/networks.md)."""

    max_logs_range: int  # widest eth_getLogs block range accepted
    max_batch: int  # most requests in one JSON-RPC batch
    max_request_bytes: int  # largest HTTP request body


NodeProfile = Literal["anvil", "besu", "goquorum"]
NODE_PROFILES: dict[str, NodeLimits] = {
    # anvil limits none of these; credreg keeps to Besu's log range anyway so replies stay bounded.
    "anvil": NodeLimits(max_logs_range=5_000, max_batch=1_024, max_request_bytes=5 * 1024 * 1024),
    # --rpc-max-logs-range, --rpc-http-max-batch-size, --rpc-http-max-request-content-length
    "besu": NodeLimits(max_logs_range=5_000, max_batch=1_024, max_request_bytes=5 * 1024 * 1024),
    # geth's HTTP server as GoQuorum ships it: 5 MiB bodies; no log range limit of its own (the window keeps
    # replies bounded); geth's later default batch limit of 1,000 is assumed for safety.
    "goquorum": NodeLimits(max_logs_range=5_000, max_batch=1_000, max_request_bytes=5 * 1024 * 1024),
}


class Settings(BaseSettings):
    """Where the data lives, which chain to talk to, and how the service listens."""

    model_config = SettingsConfigDict(env_prefix="CREDREG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".credreg"), description="Directory for chain state, manifest, database.")
    rpc_url: str | None = Field(
        None, description="JSON-RPC endpoint; by default the embedded dev chain on chain_host:chain_port."
    )
    rpc_urls: str | None = Field(
        None,
        description="Several JSON-RPC endpoints of one network, comma-separated, tried in order: reads and "
        "sends fail over between them. Every one must serve the same chain id and genesis block.",
    )
    node_profile: NodeProfile = Field(
        "anvil",
        description="The kind of node(s) behind the RPC URLs, for their default RPC limits: anvil, besu or "
        "goquorum (see docs/networks.md). The rpc_max_* settings override single limits.",
    )
    rpc_max_logs_range: int | None = Field(
        None, ge=1, description="Widest eth_getLogs block range the nodes accept (default: the profile's)."
    )
    rpc_max_batch: int | None = Field(
        None,
        ge=1,
        description="Most requests in one JSON-RPC batch the nodes accept (default: the profile's).",
    )
    rpc_max_request_bytes: int | None = Field(
        None, ge=1024, description="Largest JSON-RPC request body the nodes accept (default: the profile's)."
    )
    public_rpc_urls: list[str] = Field(
        default_factory=list,
        description="JSON-RPC endpoints that verifiers elsewhere may use, named by GET /v1/registry "
        "(a JSON list); default the service's own endpoint.",
    )
    chain_host: str = "127.0.0.1"
    chain_port: int = Field(DEFAULT_CHAIN_PORT, ge=1, le=65535)
    manifest: Path | None = Field(
        None, description="Deployment manifest; default <data_dir>/deployment.json."
    )
    timezone: str = Field(
        DEFAULT_TIME_ZONE,
        description="IANA time zone in which dates without an offset are read and every time is shown "
        "(the CLI, the web page); certificates' own dates are China Standard Time.",
    )
    confirmations: int = Field(0, ge=0, le=64, description="Blocks to wait before a transaction counts.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite under data_dir.")
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    # --- the HTTP service (`credreg serve`) --------------------------------------------------------------
    relayer_keystore: Path | None = Field(
        None, description="Keystore of the account that relays signed requests (pays the gas)."
    )
    relayer_password_env: str = Field(
        "CREDREG_RELAYER_PASSWORD", description="Name of the environment variable holding its password."
    )
    relayer_dev_account: int = Field(
        9, ge=0, le=9, description="Without a keystore, on the dev chain only: anvil test account N relays."
    )
    rpc_timeout: float = Field(10.0, gt=0, le=300, description="Seconds the service waits for one RPC reply.")
    status_list_key: Path | None = Field(
        None,
        description="The operator's Ed25519 key signing the status lists (PKCS#8 PEM); on the dev chain only, "
        "a generated dev key under data_dir when unset.",
    )
    status_list_password_env: str = Field(
        "CREDREG_STATUS_LIST_KEY_PASSWORD",
        description="Name of the environment variable holding its password.",
    )
    status_list_base_url: str | None = Field(
        None,
        description="Public URL the status lists are published under (…/v1/status); default: this service's "
        "own address as the request reached it.",
    )
    status_list_max_age: int = Field(
        60, ge=0, le=86_400, description="Cache-Control max-age of a status list."
    )
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="Largest request body accepted.")
    max_batch: int = Field(100, ge=1, description="Most documents one POST /v1/verify may carry.")
    max_leaves: int = Field(10_000, ge=1, description="Most leaf target hashes one issuance may list.")
    max_upload_leaves: int = Field(
        5_000_000,
        ge=1,
        description="Most leaves one batch upload in parts (POST /v1/batches/uploads) may hold.",
    )
    upload_part_leaves: int = Field(
        10_000,
        ge=1,
        description="Leaves per part of a batch upload; capped so a part fits in max_body_bytes (69 bytes a leaf).",
    )
    upload_ttl_hours: float = Field(
        24, gt=0, description="An open batch upload no part has reached for this long is discarded."
    )
    max_open_uploads: int = Field(4, ge=1, description="Open batch uploads one agency may have at once.")
    request_horizon_days: int = Field(
        30, ge=1, le=366, description="Latest deadline a signed request may carry, in days from now."
    )
    valid_until_horizon_years: int = Field(
        100,
        ge=1,
        le=1000,
        description="Latest validity date an issuance may carry, in years from now: a date beyond it is a "
        "typing error, not a credential.",
    )
    agency_requests_per_minute: int = Field(
        120, ge=0, description="Signed requests one agency may send in any 60 s; 0 = unlimited."
    )
    agency_tx_per_day: int = Field(
        10_000, ge=0, description="Transactions the relayer sends for one agency in any 24 h; 0 = unlimited."
    )
    agency_gas_per_day: int = Field(
        1_000_000_000,
        ge=0,
        description="Gas the relayer spends for one agency in any 24 h (estimated at intake, gasUsed once "
        "confirmed); 0 = unlimited.",
    )
    outbox_worker: bool = Field(True, description="Relay accepted requests from this process.")
    outbox_poll_seconds: float = Field(0.5, gt=0, le=60)
    outbox_max_attempts: int = Field(5, ge=1, le=100, description="Sends tried before a request fails.")
    worker_id: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        max_length=64,
        description="Names this instance in the outbox's leases; unique per instance sharing a database.",
    )
    index_follower: bool = Field(True, description="Follow the chain into the event index from this process.")
    index_poll_seconds: float = Field(1.0, gt=0, le=60)
    index_chunk_blocks: int = Field(5_000, ge=1, le=1_000_000, description="Blocks per eth_getLogs call.")
    ready_max_lag: int = Field(5, ge=0, description="Blocks the event index may trail before /readyz fails.")
    ledger_cache: bool = Field(
        True,
        description="Answer POST /v1/verify's ledger reads from memory, as of the block the event index read "
        "last (docs/service.md); false: always read the chain at its head.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"未知时区 {value!r}，请使用 IANA 时区名，例如 Asia/Shanghai / unknown time zone {value!r}; "
                f"use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _limits_fit(self) -> Settings:
        if self.node_limits.max_batch < LARGEST_BATCH_SENT:
            raise ValueError(
                f"the nodes accept batches of {self.node_limits.max_batch} requests, but credreg sends up to "
                f"{LARGEST_BATCH_SENT}; raise the node's batch limit (Besu: --rpc-http-max-batch-size)"
            )
        return self

    @property
    def node_limits(self) -> NodeLimits:
        """The node profile's RPC limits, with any single limit set explicitly taking precedence."""
        base = NODE_PROFILES[self.node_profile]
        return NodeLimits(
            max_logs_range=self.rpc_max_logs_range or base.max_logs_range,
            max_batch=self.rpc_max_batch or base.max_batch,
            max_request_bytes=self.rpc_max_request_bytes or base.max_request_bytes,
        )

    @property
    def log_window_blocks(self) -> int:
        """Blocks per eth_getLogs call: `index_chunk_blocks`, within the nodes' log range."""
        return min(self.index_chunk_blocks, self.node_limits.max_logs_range)

    @property
    def effective_rpc_url(self) -> str:
        """The node URL, or several comma-separated (`rpc_url` first, then `rpc_urls`)."""
        urls = [u.strip() for v in (self.rpc_url, self.rpc_urls) if v for u in v.split(",") if u.strip()]
        return ",".join(dict.fromkeys(urls)) or f"http://{self.chain_host}:{self.chain_port}"

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.data_dir / "deployment.json"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'credreg.sqlite3').resolve()}"


def settings_problem(error: ValidationError) -> str:
    """A one-line account of unusable settings, naming each setting as its environment variable."""
    parts = []
    for item in error.errors():
        name = "_".join(str(p) for p in item.get("loc", ())).upper()
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"CREDREG_{name}: {message}" if name else message)
    return "invalid settings: " + "; ".join(parts)
