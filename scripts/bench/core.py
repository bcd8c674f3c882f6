"""The benchmark's configuration, its rows and targets, the time budget, and the chain it deploys credreg on."""

from __future__ import annotations

import cProfile
import io
import math
import os
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import DevChain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.manifest import Manifest
from credreg.registry import AgencyAdmin, Governor, Registry
from credreg.samples import BLOCKCHAIN_TECHNICIAN

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
IDENTITY_LOCATION = "registry.example.org"
AGENCY_NAME = "Benchmark Skills Evaluation Centre"
# Room for EAS multiAttest of 100 (about 28 M gas) and for the audit ledger's full blocks.
BLOCK_GAS_LIMIT = 100_000_000
LEDGER_REVOKE_EVERY = 100
CHURN_TARGETS = 250  # credentials suspended and reinstated over and over at the end of the ledger
MAX_API_REQUESTS = 200_000
API_SERVER_WORKERS = 2  # `credreg serve --workers`: one answering process per core
PEERS = {
    "ds3": "OA DocStore 3.0",
    "ds4": "OA DocStore v4",
    "eas": "EAS 1.9",
    "oa_lib": "OA wrap 6.9.7",
    "base": "floor / baseline",  # what each row names in its label: the least the task can cost
}
CLI_STARTS = 3  # each start-up figure is the median of at least this many fresh processes


# --- configuration -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    runs: int
    sizes: tuple[int, int, int]  # issuance growth; the middle one is "the" end-to-end batch
    oa_sizes: tuple[int, ...]  # sizes OpenAttestation's wrapping is also run at
    large_runs: int  # repetitions at the largest size (it is slow)
    api_seconds: float
    api_workers: int
    ledger_credentials: int
    churn_events: int  # status changes after the credentials: the ledger grows, the state does not
    timeout: float  # the whole run, seconds
    judge_rates: bool = True  # rates from a handful of documents say nothing about the targets

    @property
    def batch(self) -> int:
        return self.sizes[1]


FULL = Config(
    name="full",
    runs=3,
    sizes=(1_000, 10_000, 100_000),
    oa_sizes=(1_000, 10_000),
    large_runs=1,
    api_seconds=8.0,
    api_workers=4,
    ledger_credentials=100_000,
    churn_events=60_000,
    timeout=1_800.0,
)
QUICK = Config(
    name="quick",
    runs=1,
    sizes=(10, 40, 80),
    oa_sizes=(10, 40, 80),
    large_runs=1,
    api_seconds=1.0,
    api_workers=2,
    ledger_credentials=300,
    churn_events=2_000,
    timeout=300.0,
    judge_rates=False,
)
TARGET_BATCH = 10_000  # the size issue 7's issuance target speaks of
TOO_SMALL = "--quick: too few documents to judge a rate"


# --- results -------------------------------------------------------------------------------------------


@dataclass
class Target:
    text: str
    status: str  # met / missed / n/a
    why: str = ""


@dataclass
class Row:
    id: str
    section: str
    label: str
    unit: str
    credreg: float | None
    peers: dict[str, float | None] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def ratio(self, peer: str) -> float | None:
        other = self.peers.get(peer)
        if self.credreg is None or other is None or other == 0:
            return None
        return self.credreg / other


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])


def check(text: str, value: float | None, ok: Callable[[float], bool], applies: str = "") -> Target:
    if applies:
        return Target(text, "n/a", applies)
    if value is None:
        return Target(text, "n/a", "not measured")
    return Target(text, "met" if ok(value) else "missed")


def settle_disk(limit: float = 60.0) -> float:
    """Write the page cache's dirty pages out (`sync`) and wait, at most `limit` seconds, until the kernel
    is done writing them: what one row wrote (or deleted) is not charged to the next. Seconds waited."""
    started = time.monotonic()
    os.sync()
    while time.monotonic() - started < limit and _dirty_kb() > 65_536:
        time.sleep(0.5)
    return time.monotonic() - started


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(group: int | None) -> float:
    """CPU seconds (user and system) used so far by the live processes of process group `group` (the
    ledger node's, `BenchChain.process_group`): 0 where /proc is not there or `group` is None."""
    if group is None:
        return 0.0
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(int(entry.name))
        except OSError:  # gone meanwhile
            continue
        if len(fields) > 12 and int(fields[2]) == group:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """/proc/pid/stat from the state on (state, ppid, pgrp, …, utime, stime, …): after the command name,
    which is in parentheses and may hold either."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
        stat = fh.read()
    return stat[stat.rfind(")") + 2 :].split()


def _dirty_kb() -> int:
    """Dirty and under-writeback page cache, in KB (0 where /proc/meminfo is not there)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            fields = dict(line.split(":", 1) for line in fh)
    except OSError:
        return 0
    return sum(int(fields.get(key, "0 kB").split()[0]) for key in ("Dirty", "Writeback"))


class Deadline:
    """The whole run's time budget: every wait below checks it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise TimeoutError(f"the benchmark ran out of time during {what}")


# --- the chain and the deployments ---------------------------------------------------------------------


@dataclass
class BenchChain(DevChain):
    """The project's dev chain, with blocks large enough for the bulkiest peer call and the audit ledger."""

    def command(self) -> list[str]:
        return [*super().command(), "--gas-limit", str(BLOCK_GAS_LIMIT)]


@dataclass
class Setup:
    chain: BenchChain
    w3: Web3
    registry: Registry
    manifest: Manifest
    scope_id: str
    agency_id: int
    governor: LocalAccount
    admin: LocalAccount
    signer: LocalAccount
    relayer: LocalAccount
    issuer: LocalAccount  # issues on the peers


def deploy_credreg(chain: BenchChain) -> Setup:
    governor, admin, signer, relayer, issuer = (Account.from_key(k) for k in ANVIL_TEST_KEYS[:5])
    w3 = connect(chain.url, timeout=60)
    manifest = deploy_registry(w3, governor)
    registry = Registry.connect(chain.url, manifest)
    gov = Governor(registry, governor)
    scope = BLOCKCHAIN_TECHNICIAN
    scope_id = gov.define_scope(scope.occupation_code, scope.level, scope.occupation_title)
    agency_id = gov.register_agency(AGENCY_NAME, "BENCH-0001", admin.address)
    since = registry.block_time() - 3600
    gov.accredit(agency_id, scope_id, since, 0)
    AgencyAdmin(registry, admin).add_signer(agency_id, signer.address, since, 0)
    return Setup(chain, w3, registry, manifest, scope_id, agency_id, governor, admin, signer, relayer, issuer)


def leaf_hash(label: str) -> bytes:
    return keccak(text=f"credreg benchmark credential {label}")


# --- profiling of missed targets -----------------------------------------------------------------------


def profile_call(name: str, action: Callable[[], object], out_dir: Path) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        action()
    finally:
        profiler.disable()
    path = out_dir / f"profile-{name}.pstats"
    profiler.dump_stats(str(path))
    return summarize_profile(path)


def summarize_profile(path: Path, limit: int = 14) -> str:
    text = io.StringIO()
    stats = pstats.Stats(str(path), stream=text)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    return f"{path}:\n" + "\n".join(line for line in text.getvalue().splitlines() if line.strip())
