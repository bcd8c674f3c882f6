"""The one way the tests get a registry to work on: a real anvil started by the dev-chain helper
(credreg.chain.devchain), the registry deployed the way `credreg deploy` deploys it (credreg.chain.deploy),
and the governor's and agencies' set-up made through the library: scopes defined, agencies registered and
accredited, signer keys added.

    with ledger_on_new_chain(LedgerSpec(...)) as ledger:   # an anvil of its own, stopped afterwards
        ...
    ledger = deploy_ledger(chain.url, LedgerSpec(...))      # on a chain a fixture already runs

Each suite states what it needs as a `LedgerSpec` and keeps only what is its own (signing helpers, batches,
a history, a service) in its set-up module. The fixtures in tests/conftest.py hand out chains and ledgers.

Accounts are the well-known anvil test keys: `ANVIL_ACCOUNTS[n]` is anvil's test account n; the specs name
people by that index.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.manifest import Manifest
from credreg.registry import AgencyAdmin, Governor, Registry

ANVIL_ACCOUNTS: tuple[LocalAccount, ...] = tuple(Account.from_key(key) for key in ANVIL_TEST_KEYS)


@dataclass(frozen=True)
class ScopeSpec:
    occupation_code: str
    level: int
    title: str


@dataclass(frozen=True)
class AgencySpec:
    """An agency to register: its admin and signer keys by test-account index, the scopes (indexes into
    `LedgerSpec.scopes`) it is accredited for."""

    name: str
    code: str
    admin: int
    signers: tuple[int, ...] = ()
    scopes: tuple[int, ...] = (0,)


ELECTRICIAN = ScopeSpec("6-31-01-01", 3, "Electrician, level 3")


@dataclass(frozen=True)
class LedgerSpec:
    """What to set up after deploying. Accreditations and signer keys are valid from `since` seconds before
    the chain's time at set-up, or from time 0 when `since` is None; none of them ends."""

    scopes: tuple[ScopeSpec, ...] = (ELECTRICIAN,)
    agencies: tuple[AgencySpec, ...] = (AgencySpec("Agency A", "REG-A", admin=1, signers=(2,)),)
    governor: int = 0
    since: int | None = None


class ChainControls:
    """Anvil's own controls (time, mining, snapshots), which only tests use, for anything with a `w3`."""

    w3: Web3

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call; fails naming the method if the node refuses it."""
        reply = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in reply:
            raise RuntimeError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def now(self) -> int:
        """The latest block's time."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def mine_at(self, timestamp: int) -> None:
        """Mine an empty block at exactly `timestamp`, so that views read at 'latest' see that time."""
        self.rpc("evm_mine", [timestamp])

    def next_block_at(self, timestamp: int) -> None:
        self.rpc("evm_setNextBlockTimestamp", [timestamp])

    def advance(self, seconds: int) -> None:
        """Move the chain's clock on by `seconds` and mine a block there."""
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine", [])

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        """Back to `snapshot_id` (anvil drops a snapshot once reverted to: take a new one to go back again)."""
        assert self.rpc("evm_revert", [snapshot_id]) is True


@dataclass(frozen=True)
class LedgerAgency:
    agency_id: int
    name: str
    admin: LocalAccount
    signers: tuple[LocalAccount, ...]


@dataclass
class Ledger(ChainControls):
    """A deployed registry on a dev chain, as its `LedgerSpec` set it up."""

    url: str
    manifest: Manifest
    registry: Registry
    governor: LocalAccount
    scope_ids: tuple[str, ...]
    agencies: tuple[LedgerAgency, ...]
    spec: LedgerSpec = field(default_factory=LedgerSpec)

    @property
    def w3(self) -> Web3:
        return self.registry.w3

    @property
    def address(self) -> str:
        return self.registry.address


def deploy_ledger(url: str, spec: LedgerSpec | None = None) -> Ledger:
    """Deploy a registry on the dev chain at `url` and set it up as `spec` says (default: one scope, one agency
    administered by test account 1 with signer key 2, accredited for it)."""
    spec = spec or LedgerSpec()
    governor_account = ANVIL_ACCOUNTS[spec.governor]
    manifest = deploy_registry(connect(url), governor_account)
    registry = Registry.connect(url, manifest)
    governor = Governor(registry, governor_account)
    scope_ids = tuple(governor.define_scope(s.occupation_code, s.level, s.title) for s in spec.scopes)
    since: int | None = None
    agencies = []
    for agency in spec.agencies:
        admin = ANVIL_ACCOUNTS[agency.admin]
        agency_id = governor.register_agency(agency.name, agency.code, admin.address)
        if since is None:
            since = 0 if spec.since is None else registry.block_time() - spec.since
        for scope in agency.scopes:
            governor.accredit(agency_id, scope_ids[scope], since, 0)
        signers = tuple(ANVIL_ACCOUNTS[n] for n in agency.signers)
        for signer in signers:
            AgencyAdmin(registry, admin).add_signer(agency_id, signer.address, since, 0)
        agencies.append(LedgerAgency(agency_id, agency.name, admin, signers))
    return Ledger(url, manifest, registry, governor_account, scope_ids, tuple(agencies), spec)


@contextmanager
def ledger_on_new_chain(spec: LedgerSpec | None = None) -> Iterator[Ledger]:
    """A fresh anvil of its own on a free loopback port with a registry set up as `spec` says."""
    with ephemeral_chain() as chain:
        yield deploy_ledger(chain.url, spec)
