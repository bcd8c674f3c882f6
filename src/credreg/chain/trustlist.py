"""Which registry to verify against, for people who never deployed one: a trust list or a credreg service.

A trust list is a small JSON file an employer keeps (or is given by the governor), e.g.::

    {
      "credreg_trust_list": 1,
      "name": "北京市职业技能等级证书登记系统 Beijing skill certificate registry",
      "chain_id": 31337,
      "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      "rpc_urls": ["https://rpc.example.org"],
      "deployment_block": 0,
      "agencies": [1, 2]
    }

`credreg_trust_list` is the format version (1). `chain_id` and `registry` are required, and `rpc_urls`
(tried in order) unless the verifier gives `--rpc-url`; `name`, `deployment_block` (default 0) and `agencies` are optional. When `agencies` is given, only
certificates from those agency numbers are accepted; one from another agency is reported as not trusted.

A credreg service answers the same facts at `GET /v1/registry` (`chain_id`, `registry`, `rpc_urls`,
`deployment_block`), so `--registry https://host` reads them from there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credreg.chain.manifest import DeployedContract, Manifest
from credreg.errors import ConfigError

TRUST_LIST_VERSION = 1
_EXAMPLE = (
    '{"credreg_trust_list": 1, "chain_id": 31337, "registry": "0x…", "rpc_urls": ["https://rpc.example.org"]}'
)


class TrustList(BaseModel):
    """A registry to verify against, and optionally the agencies trusted there."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    credreg_trust_list: int = Field(TRUST_LIST_VERSION, ge=1, le=TRUST_LIST_VERSION)
    name: str | None = None
    chain_id: int = Field(ge=1)
    registry: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    rpc_urls: list[str] = []
    deployment_block: int = Field(0, ge=0)
    agencies: list[int] | None = None

    def manifest(self) -> Manifest:
        """A manifest holding what verifying needs (how the contract was built is not known here)."""
        unknown = "unknown (from a trust list)"
        return Manifest(
            chain_id=self.chain_id,
            registry=DeployedContract(
                address=self.registry,
                deployment_block=self.deployment_block,
                transaction_hash=unknown,
                bytecode_hash=unknown,
                deployed_bytecode_hash=unknown,
            ),
            governor="0x" + "00" * 20,
            contract_version=unknown,
            compiler_version=unknown,
            evm_version=unknown,
            optimizer_runs=0,
            credreg_version=unknown,
            deployed_at=datetime.fromtimestamp(0, UTC),
        )


def _invalid(source: str, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(file)"
    return ConfigError(
        f"{source} 不是有效的信任列表，字段 {where}：{first['msg']}。格式示例：{_EXAMPLE} / "
        f"{source} is not a valid trust list at {where}: {first['msg']}. The form is: {_EXAMPLE}"
    )


def load_trust_list(path: Path) -> TrustList:
    """Read a trust-list file; a bilingual `ConfigError` naming the field when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"无法读取信任列表 {path}（{exc.strerror or exc}），请检查 --registry 给出的路径 / "
            f"cannot read the trust list {path} ({exc.strerror or exc}); check the path given to --registry"
        ) from exc
    try:
        return TrustList.model_validate(json.loads(text))
    except ValueError as exc:  # ValidationError is one
        if isinstance(exc, ValidationError):
            raise _invalid(str(path), exc) from None
        raise ConfigError(
            f"{path} 不是 JSON 文件。格式示例：{_EXAMPLE} / {path} is not JSON. The form is: {_EXAMPLE}"
        ) from None


def fetch_trust_list(base_url: str, *, timeout: float = 10.0) -> TrustList:
    """The registry a credreg service names at `GET /v1/registry`, as a trust list."""
    url = base_url.rstrip("/") + "/v1/registry"
    try:
        reply = httpx.get(url, timeout=timeout, follow_redirects=True)
        reply.raise_for_status()
        body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ConfigError(
            f"无法从 {url} 读取登记系统信息（{exc}），请核对 --registry 的网址 / "
            f"cannot read the registry from {url} ({exc}); check the address given to --registry"
        ) from None
    try:
        return TrustList.model_validate(body)
    except ValidationError as exc:
        raise _invalid(url, exc) from None


def resolve_trust_list(source: str) -> TrustList:
    """`--registry`: an http(s) URL of a credreg service, or the path of a trust-list file."""
    if source.startswith(("http://", "https://")):
        return fetch_trust_list(source)
    return load_trust_list(Path(source))
