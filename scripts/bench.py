"""credreg beside its peers, measured in one run on one chain: gas, issuance, verification, audit replay.

    python scripts/bench.py            (or: make bench)       the full run, a few minutes on 2 cores
    python scripts/bench.py --quick                           the smallest configuration (the smoke test)

Starts its own anvil on a free loopback port, deploys credreg and, from their npm packages (scripts/peers.py),
OpenAttestation's DocumentStore (3.0 and v4) and the Ethereum Attestation Service, then measures:

- gas per credential: one credential, a batch of 100 and of 10,000 (credreg and DocumentStore record one
  root; DocumentStore 3.0 `bulkIssue` and EAS `multiAttest` record 100 entries), and revoking one credential;
- issuing a results file end to end with credreg (read, build, salt, hash, merkle, sign, submit, confirm,
  write every document), beside OpenAttestation's own `wrapDocuments` wrapping and writing the very same
  data objects (scripts/bench_oa_wrap.js), at three sizes;
- exporting the issued batch as W3C VCs 2.0 (`eddsa-rdfc-2022`, one file each), beside OpenAttestation's
  wrapping and writing of the same batch;
- verification: documents per second through `verify_documents` (one batch), beside the floor (parsing the
  same files and hashing what they hash, alone), through `credreg verify` over the batch's files (a fresh
  process reading them, beside the library's rate), and through `POST /v1/verify` of a `credreg serve`
  process, with a time-bounded load generator on loopback (median and p99 latency);
- the command line's start-up: `credreg --help` and `credreg verify one.json` (its ledger read included)
  in fresh processes, beside `python -c pass`;
- the audit: events per second replaying a ledger of at least 100,000 credentials from genesis (then status
  changes that grow the ledger but not the state), in fresh processes, and their peak memory: how much the
  state costs, and whether memory grows with the number of events.

Timed figures are medians of `--runs` repetitions; gas is deterministic and measured once. Everything is
printed as one table, with each peer's figure and the ratio credreg ÷ peer, and the targets of issue 7 as
met or missed, followed by where the time goes; the same goes to `bench-results/bench-<time>.json` with the
machine, the versions and the commit. `--profile DIR` also profiles the code behind each missed target.
Only loopback is ever contacted; every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib.metadata
import io
import json
import math
import os
import platform
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = PROJECT_ROOT / "scripts"
if str(SCRIPTS) not in sys.path:  # when imported by the smoke test rather than run as a script
    sys.path.insert(0, str(SCRIPTS))

from peers import (  # noqa: E402
    DOCUMENT_STORE_PACKAGE,
    DOCUMENT_STORE_V4_PACKAGE,
    EAS_PACKAGE,
    attested_uid,
    deploy_document_store,
    deploy_document_store_v4,
    deploy_eas,
    eas_request,
    send,
)

from credreg.chain.client import connect  # noqa: E402
from credreg.chain.deploy import deploy_registry  # noqa: E402
from credreg.chain.devchain import DevChain, free_port, rpc_answers  # noqa: E402
from credreg.chain.devkeys import ANVIL_TEST_KEYS  # noqa: E402
from credreg.chain.eip712 import DOMAIN_NAME, DOMAIN_VERSION, ISSUE_TYPES, StatusAction  # noqa: E402
from credreg.chain.manifest import Manifest  # noqa: E402
from credreg.documents._keccak import new_keccak256  # noqa: E402
from credreg.documents.canonical import flatten  # noqa: E402
from credreg.documents.layout import certificate_to_data  # noqa: E402
from credreg.documents.merkle import MerkleTree  # noqa: E402
from credreg.documents.model import AgencyRef  # noqa: E402
from credreg.documents.results import IssueContext, read_results  # noqa: E402
from credreg.documents.wrap import load_document  # noqa: E402
from credreg.issuance import issue_results_file  # noqa: E402
from credreg.paths import node_tool  # noqa: E402
from credreg.registry import AgencyAdmin, Governor, Registry, Relayer  # noqa: E402
from credreg.samples import BLOCKCHAIN_TECHNICIAN, write_sample_results  # noqa: E402
from credreg.vc.export import export_vc  # noqa: E402
from credreg.vc.keys import generate_key  # noqa: E402
from credreg.verify import Outcome, verify_documents  # noqa: E402

IDENTITY_LOCATION = "registry.example.org"
AGENCY_NAME = "Benchmark Skills Evaluation Centre"
# Room for EAS multiAttest of 100 (about 28 M gas) and for the audit ledger's full blocks.
BLOCK_GAS_LIMIT = 100_000_000
LEDGER_CHUNK = 500
LEDGER_ISSUE_GAS = 100_000
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


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


# --- gas -----------------------------------------------------------------------------------------------


def measure_gas(s: Setup) -> list[Row]:
    registry, relayer = s.registry, Relayer(s.registry, s.relayer)

    receipts: list[Any] = []

    def issue(root: bytes) -> int:
        signed = registry.sign_issue(s.signer, registry.issue_request(hex32(root), s.scope_id))
        receipts.append(relayer.issue(signed))
        return int(receipts[-1]["gasUsed"])

    def revoke(root: bytes, target: bytes, proof: list[bytes]) -> int:
        signed = registry.sign_status_change(
            s.signer,
            s.agency_id,
            hex32(root),
            hex32(target),
            [hex32(p) for p in proof],
            StatusAction.REVOKE,
            1,
        )
        return int(relayer.set_status(signed)["gasUsed"])

    def peer(sender: LocalAccount, call: Any) -> int:
        return int(send(s.w3, sender, call)["gasUsed"])

    store = deploy_document_store(s.w3, s.issuer)
    store_v4 = deploy_document_store_v4(s.w3, s.issuer)
    eas = deploy_eas(s.w3, s.issuer)
    scope = bytes.fromhex(s.scope_id[2:])

    single = leaf_hash("single")
    batch100 = MerkleTree(leaf_hash(f"hundred {i}") for i in range(100))
    batch10k = MerkleTree(leaf_hash(f"ten thousand {i}") for i in range(10_000))
    hundred = [leaf_hash(f"bulk {i}") for i in range(100)]
    leaf = batch10k.leaves[5_000]
    proof = batch10k.proof(leaf)

    c_single = issue(single)
    sizes = record_sizes(s, receipts[-1])
    c_root100 = issue(batch100.root)
    c_root10k = issue(batch10k.root)
    c_revoke_single = revoke(single, single, [])
    c_revoke_leaf = revoke(batch10k.root, leaf, proof)

    ds3_single = peer(s.issuer, store.functions.issue(single))
    ds3_root100 = peer(s.issuer, store.functions.issue(batch100.root))
    ds3_root10k = peer(s.issuer, store.functions.issue(batch10k.root))
    ds3_bulk = peer(s.issuer, store.functions.bulkIssue(hundred))
    ds3_revoke_single = peer(s.issuer, store.functions.revoke(single))
    ds3_revoke_leaf = peer(s.issuer, store.functions.revoke(leaf))

    ds4_single = peer(s.issuer, store_v4.functions.issue(single))
    ds4_root100 = peer(s.issuer, store_v4.functions.issue(batch100.root))
    ds4_root10k = peer(s.issuer, store_v4.functions.issue(batch10k.root))
    ds4_revoke_single = peer(s.issuer, store_v4.functions.revoke(single))
    ds4_revoke_leaf = peer(s.issuer, store_v4.functions.revoke(batch10k.root, leaf, proof))

    attest = eas.eas.functions.attest((eas.schema, eas_request(s.issuer.address, single, scope)))
    eas_receipt = send(s.w3, s.issuer, attest)
    eas_single = int(eas_receipt["gasUsed"])
    eas_multi = peer(
        s.issuer,
        eas.eas.functions.multiAttest(
            [(eas.schema, [eas_request(s.issuer.address, h, scope) for h in hundred])]
        ),
    )
    uid = attested_uid(eas, eas_receipt)
    eas_revoke = peer(s.issuer, eas.eas.functions.revoke((eas.schema, (uid, 0))))

    note_issue = "one transaction's gasUsed (21,000 base and calldata included) ÷ credentials it records"
    return [
        Row(
            "gas.issue_single",
            "gas",
            "gas per credential: issue one",
            "gas",
            c_single,
            {"ds3": ds3_single, "ds4": ds4_single, "eas": eas_single},
            [
                check("≤ 1.25× DocStore 3.0 issue", c_single / ds3_single, lambda r: r <= 1.25),
                check("< 0.3× EAS attest", c_single / eas_single, lambda r: r < 0.3),
            ],
            {"basis": note_issue, "sizes": sizes},
        ),
        Row(
            "gas.root_100",
            "gas",
            "gas per credential: batch of 100, one root",
            "gas",
            c_root100 / 100,
            {"ds3": ds3_root100 / 100, "ds4": ds4_root100 / 100},
            detail={"transaction_gas": {"credreg": c_root100, "ds3": ds3_root100, "ds4": ds4_root100}},
        ),
        Row(
            "gas.each_100",
            "gas",
            "gas per credential: 100 entries in one call",
            "gas",
            c_root100 / 100,
            {"ds3": ds3_bulk / 100, "eas": eas_multi / 100},
            detail={
                "transaction_gas": {
                    "credreg": c_root100,
                    "ds3_bulkIssue": ds3_bulk,
                    "eas_multiAttest": eas_multi,
                },
                "basis": "credreg records a batch as one root; DocStore 3.0 bulkIssue and EAS multiAttest "
                "store one entry per credential",
            },
        ),
        Row(
            "gas.root_10000",
            "gas",
            "gas per credential: batch of 10,000, one root",
            "gas",
            c_root10k / 10_000,
            {"ds3": ds3_root10k / 10_000, "ds4": ds4_root10k / 10_000},
            [check("< 10 gas per credential", c_root10k / 10_000, lambda v: v < 10)],
            {"transaction_gas": {"credreg": c_root10k, "ds3": ds3_root10k, "ds4": ds4_root10k}},
        ),
        Row(
            "gas.revoke_single",
            "gas",
            "gas: revoke a single-document credential",
            "gas",
            c_revoke_single,
            {"ds3": ds3_revoke_single, "ds4": ds4_revoke_single, "eas": eas_revoke},
        ),
        Row(
            "gas.revoke_leaf",
            "gas",
            "gas: revoke one of a 10,000 batch (depth 14)",
            "gas",
            c_revoke_leaf,
            {"ds3": ds3_revoke_leaf, "ds4": ds4_revoke_leaf},
            detail={"basis": "DocStore 3.0 revokes the leaf hash with no proof; v4 and credreg prove it"},
        ),
    ]


def record_sizes(s: Setup, receipt: Any) -> dict[str, int]:
    """What one `issue` adds to a node's history, in bytes: the signed transaction and its one event."""
    raw: Any = s.w3.provider.make_request(
        "eth_getRawTransactionByHash",  # type: ignore[arg-type]
        [receipt["transactionHash"].to_0x_hex()],
    )
    (log,) = receipt["logs"]
    return {
        "transaction_bytes": (len(raw["result"]) - 2) // 2,
        "event_topics": len(log["topics"]),
        "event_data_bytes": len(bytes(log["data"])),
        "logs_bloom_bytes": len(bytes(receipt["logsBloom"])),
    }


# --- issuance ------------------------------------------------------------------------------------------


@dataclass
class IssueRun:
    size: int
    seconds: float
    phases: dict[str, float]
    root: str
    files: list[Path]
    peak_rss_mb: float = 0.0  # of the benchmark process, so far


def issue_once(s: Setup, work: Path, size: int, seed: int, deadline: Deadline) -> IssueRun:
    deadline.check(f"issuing {size} certificates")
    run_dir = work / f"issue-{size}-{seed}"
    if run_dir.exists():
        raise RuntimeError(f"{run_dir} exists already: every run issues into a new directory")
    results = write_sample_results(run_dir / "results.csv", size, seed=seed)
    out = run_dir / "documents"
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            marks[stage] = time.perf_counter() - started

    outcome = issue_results_file(
        s.registry, s.signer, s.relayer, results, out, identity_location=IDENTITY_LOCATION, progress=progress
    )
    seconds = time.perf_counter() - started
    if outcome.already_done or outcome.summary.count != size:
        raise RuntimeError(f"issuing {size} certificates recorded {outcome.summary.count}")
    read, wrap = marks["read"], marks["wrap"]
    recorded, written = marks["recorded"], marks["write"]
    phases = {
        "read and build": read,
        "salt, hash, merkle": wrap - read,
        "journal, sign, submit, confirm": recorded - wrap,
        "write documents": written - recorded,
        "summary and sync": seconds - written,
    }
    return IssueRun(
        size, seconds, phases, outcome.summary.root, [out / name for name in outcome.summary.files]
    )


def oa_data_file(s: Setup, work: Path, size: int, seed: int) -> Path:
    """The unwrapped data objects credreg wraps for this results file, one JSON per line, for OpenAttestation."""
    path = work / f"oa-data-{size}-{seed}.jsonl"
    results = write_sample_results(work / f"oa-results-{size}-{seed}.csv", size, seed=seed)
    context = IssueContext(
        agency=AgencyRef(id=s.agency_id, name=AGENCY_NAME),
        chain_id=s.registry.domain.chain_id,
        registry=s.registry.address,
    )
    certificates = read_results(results, context=context)
    with path.open("w", encoding="utf-8") as fh:
        for certificate in certificates:
            data = certificate_to_data(certificate, identity_location=IDENTITY_LOCATION)
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
    return path


def oa_wrap_once(data: Path, out: Path, deadline: Deadline) -> dict[str, Any]:
    deadline.check("OpenAttestation wrapping")
    if out.exists():
        raise RuntimeError(f"{out} exists already: every run wraps into a new directory")
    started = time.perf_counter()
    done = subprocess.run(
        ["node", str(SCRIPTS / "bench_oa_wrap.js"), str(data), str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=max(1.0, min(900.0, deadline.left())),
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"OpenAttestation wrapping failed: {done.stderr.strip()[-800:]}")
    figures: dict[str, Any] = json.loads(done.stdout)
    figures["process_seconds"] = wall
    return figures


def measure_issuance(
    s: Setup, cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> tuple[list[Row], IssueRun]:
    runs: dict[int, list[IssueRun]] = {}
    kept: IssueRun | None = None
    for size in cfg.sizes:
        repeats = cfg.large_runs if size == cfg.sizes[2] and size > cfg.batch else cfg.runs
        for r in range(repeats):
            run = issue_once(s, work, size, seed=1000 * r + size % 997, deadline=deadline)
            runs.setdefault(size, []).append(run)
            log(f"  issue {size:,}: {run.seconds:.2f} s")
            run.peak_rss_mb = rss_mb()[1]
            if size == cfg.batch and kept is None:
                kept = run  # its documents are verified below
            # Nothing is deleted until the end: removing thousands of files stalls the next run's file
            # creation (ext4 journal commits, discards), which is not what an agency's machine sees.
    assert kept is not None
    oa: dict[int, list[dict[str, Any]]] = {}
    for size in cfg.oa_sizes:
        data = oa_data_file(s, work, size, seed=size % 997)
        for r in range(cfg.runs):
            figures = oa_wrap_once(data, work / f"oa-out-{size}-{r}", deadline)
            oa.setdefault(size, []).append(figures)
            log(
                f"  OpenAttestation wrap {size:,}: {figures['wrap_seconds'] + figures['write_seconds']:.2f} s"
            )

    def oa_total(size: int) -> float | None:
        if size not in oa:
            return None
        return median([f["wrap_seconds"] + f["write_seconds"] for f in oa[size]])

    def phases(size: int) -> dict[str, float]:
        names = runs[size][0].phases
        return {name: median([run.phases[name] for run in runs[size]]) for name in names}

    rows: list[Row] = []
    batch = cfg.batch
    batch_seconds = median([run.seconds for run in runs[batch]])
    applies = (
        "" if batch == TARGET_BATCH else f"the target is for {TARGET_BATCH:,}; this run issued {batch:,}"
    )
    rows.append(
        Row(
            "issue.end_to_end",
            "issuance",
            f"issue {batch:,} certificates end to end",
            "s",
            batch_seconds,
            {"oa_lib": oa_total(batch)},
            [check(f"< 5 s for {TARGET_BATCH:,}", batch_seconds, lambda v: v < 5, applies)],
            {
                "size": batch,
                "runs": [run.seconds for run in runs[batch]],
                "phases": phases(batch),
                "peer_basis": "OpenAttestation: wrapDocuments + writing the files only, nothing recorded",
                "oa_runs": oa.get(batch, []),
            },
        )
    )
    wrap_write = {
        size: median([run.phases["salt, hash, merkle"] + run.phases["write documents"] for run in runs[size]])
        for size in cfg.sizes
    }
    rows.append(
        Row(
            "issue.wrap_write",
            "issuance",
            f"wrap + write {batch:,} documents (no ledger)",
            "s",
            wrap_write[batch],
            {"oa_lib": oa_total(batch)},
            detail={
                "basis": "the same work on both sides: salt, hash, merkle tree and proofs, one file each"
            },
        )
    )
    for i, size in enumerate(cfg.sizes):
        seconds = median([run.seconds for run in runs[size]])
        rows.append(
            Row(
                f"growth.{i + 1}",
                "growth",
                f"issue {size:,} end to end ({size / seconds:,.0f}/s)",
                "s",
                seconds,
                {"oa_lib": oa_total(size)},
                detail={
                    "size": size,
                    "runs": [run.seconds for run in runs[size]],
                    "phases": phases(size),
                    "per_second": size / seconds,
                    "benchmark_process_peak_rss_mb": max(run.peak_rss_mb for run in runs[size]),
                },
                note="" if size in oa else "OpenAttestation not run at this size (--oa-large to include it)",
            )
        )
    return rows, kept


def measure_export_vc(
    documents: list[bytes],
    oa_seconds: float | None,
    cfg: Config,
    work: Path,
    deadline: Deadline,
    log: Callable[[str], None],
) -> list[Row]:
    """Export the issued batch as VC 2.0 files: read, sign (RDFC-1.0 + Ed25519), write one file each."""
    key = generate_key()
    runs: list[float] = []
    for r in range(cfg.runs):
        deadline.check("VC export")
        out = work / f"vc-out-{r}"
        out.mkdir()
        started = time.perf_counter()
        for position, raw in enumerate(documents):
            credential = export_vc(
                load_document(raw),
                key,
                status_base_url="https://registry.example.org/v1/status",
                position=position,
                created=1_760_000_000,
            )
            (out / f"{position}.vc.json").write_text(json.dumps(credential, ensure_ascii=False), "utf-8")
        runs.append(time.perf_counter() - started)
        log(f"  export {len(documents):,} VCs: {runs[-1]:.2f} s")
    return [
        Row(
            "issue.export_vc",
            "issuance",
            f"export {len(documents):,} issued documents as VC 2.0 and write them",
            "s",
            median(runs),
            {"oa_lib": oa_seconds},
            detail={
                "runs": runs,
                "per_credential_ms": 1000 * median(runs) / max(1, len(documents)),
                "peer_basis": "OpenAttestation: wrapDocuments + writing the same batch",
            },
        )
    ]


# --- verification --------------------------------------------------------------------------------------


def hashing_inputs(document: bytes) -> list[bytes]:
    """Every byte string verifying `document` hashes: each field's JSON, the sorted field hashes' JSON, and
    each merkle proof step's pair (as `verify_documents` hashes them, and in the same number)."""
    parsed = json.loads(document)
    texts = [
        json.dumps({key: value}, ensure_ascii=False, separators=(",", ":")).encode()
        for key, value in flatten(parsed["data"]).items()
    ]
    hashes = sorted(keccak(t).hex() for t in texts)
    texts.append(json.dumps(hashes, separators=(",", ":")).encode())
    node = bytes.fromhex(parsed["signature"]["targetHash"])
    for step in parsed["signature"]["proof"]:
        pair = b"".join(sorted((node, bytes.fromhex(step))))
        texts.append(pair)
        node = keccak(pair)
    return texts


def hashing_floor(documents: list[bytes], runs: int) -> float:
    """Documents per second for the least verification must do: parse each file and hash what it hashes."""
    inputs = [hashing_inputs(d) for d in documents]
    new_hash = new_keccak256
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        for document, texts in zip(documents, inputs, strict=True):
            json.loads(document)
            for text in texts:
                new_hash(text).hexdigest()
        rates.append(len(documents) / (time.perf_counter() - started))
    return median(rates)


def measure_verify_library(
    s: Setup, documents: list[bytes], cfg: Config, deadline: Deadline, log: Callable[[str], None]
) -> Row:
    floor = hashing_floor(documents, cfg.runs)
    log(f"  the same parsing and hashing alone: {floor:,.0f} documents/s")
    rates: list[float] = []
    for _ in range(cfg.runs):
        deadline.check("library verification")
        started = time.perf_counter()
        reports = verify_documents(s.registry, documents)
        seconds = time.perf_counter() - started
        bad = [r for r in reports if r.verdict is not Outcome.VALID]
        if bad:
            raise RuntimeError(f"{len(bad)} of {len(documents)} documents did not verify: {bad[0].code}")
        rates.append(len(documents) / seconds)
        log(f"  verify_documents({len(documents):,}): {len(documents) / seconds:,.0f} documents/s")
    rate = median(rates)
    return Row(
        "verify.library",
        "verification",
        f"verify {len(documents):,} documents in one batch (floor: their parsing and hashing alone)",
        "docs/s",
        rate,
        peers={"base": floor},
        targets=[
            check("≥ 10,000 documents/s", rate, lambda v: v >= 10_000, "" if cfg.judge_rates else TOO_SMALL)
        ],
        detail={"runs": rates, "documents": len(documents), "floor": floor},
    )


# --- the command line ----------------------------------------------------------------------------------


def _cli_env(s: Setup, work: Path) -> dict[str, str]:
    data_dir = work / "cli"
    data_dir.mkdir(parents=True, exist_ok=True)
    s.manifest.save(data_dir / "deployment.json")
    return {**os.environ, "CREDREG_DATA_DIR": str(data_dir), "CREDREG_RPC_URL": s.chain.url}


def _timed_process(
    command: list[str], env: dict[str, str], cwd: Path, deadline: Deadline
) -> tuple[float, float]:
    """Seconds from starting `command` to its exit, which must be 0 (output discarded), and the CPU seconds
    it used (on a shared machine the first waits for the other users' work, the second does not)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=max(1.0, min(300.0, deadline.left())),
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} … exited {done.returncode}: {done.stderr[-500:]!r}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_cli(
    s: Setup,
    files: list[Path],
    library_rate: float | None,
    cfg: Config,
    work: Path,
    deadline: Deadline,
    log: Callable[[str], None],
) -> list[Row]:
    """`credreg --help` and `credreg verify one.json` beside `python -c pass`, and `credreg verify` over the
    whole batch's files beside the library's rate."""
    env = _cli_env(s, work)
    credreg = [sys.executable, "-m", "credreg.cli"]
    starts = max(cfg.runs, CLI_STARTS)

    cpu: dict[str, float] = {}

    def started(name: str, command: list[str]) -> float:
        deadline.check("timing the command line")
        walls, cpus = zip(*(_timed_process(command, env, work, deadline) for _ in range(starts)), strict=True)
        cpu[name] = median(cpus)
        return median(walls)

    python = started("python", [sys.executable, "-c", "pass"])
    helped = started("help", [*credreg, "--help"])
    one = started("verify_one", [*credreg, "verify", str(files[0])])
    log(
        f"  python -c pass {python:.2f} s, credreg --help {helped:.2f} s, credreg verify one {one:.2f} s "
        f"(CPU {cpu['python']:.2f}, {cpu['help']:.2f}, {cpu['verify_one']:.2f} s)"
    )
    rates = []
    for _ in range(cfg.runs):
        deadline.check("credreg verify over the batch")
        seconds, _cpu = _timed_process([*credreg, "verify", *map(str, files)], env, work, deadline)
        rates.append(len(files) / seconds)
        log(f"  credreg verify {len(files):,} files: {len(files) / seconds:,.0f} files/s")
    bulk = median(rates)
    judge = "" if cfg.judge_rates else TOO_SMALL
    return [
        Row(
            "cli.help",
            "command line",
            "credreg --help, a fresh process (baseline: python -c pass)",
            "s",
            helped,
            peers={"base": python},
            targets=[check("< 0.25 s", helped, lambda v: v < 0.25)],
            detail={"starts": starts, "cpu_seconds": cpu["help"], "baseline_cpu_seconds": cpu["python"]},
        ),
        Row(
            "cli.verify_one",
            "command line",
            "credreg verify one.json, its ledger read included (baseline: python -c pass)",
            "s",
            one,
            peers={"base": python},
            targets=[check("< 0.4 s", one, lambda v: v < 0.4)],
            detail={
                "starts": starts,
                "cpu_seconds": cpu["verify_one"],
                "baseline_cpu_seconds": cpu["python"],
            },
        ),
        Row(
            "verify.cli_bulk",
            "verification",
            f"credreg verify {len(files):,} files, reading them (baseline: the library's rate)",
            "docs/s",
            bulk,
            peers={"base": library_rate},
            targets=[
                check(
                    "≥ 80% of the library's rate",
                    None if library_rate is None else bulk / library_rate,
                    lambda v: v >= 0.8,
                    judge,
                )
            ],
            detail={"runs": rates, "files": len(files)},
        ),
    ]


@contextlib.contextmanager
def api_server(s: Setup, work: Path, deadline: Deadline) -> Iterator[str]:
    """`credreg serve` in its own process on a free loopback port, against the bench chain."""
    data_dir = work / "api"
    data_dir.mkdir(parents=True, exist_ok=True)
    s.manifest.save(data_dir / "deployment.json")
    port = free_port()
    env = {
        **os.environ,
        "CREDREG_DATA_DIR": str(data_dir),
        "CREDREG_RPC_URL": s.chain.url,
        "CREDREG_API_HOST": "127.0.0.1",
        "CREDREG_API_PORT": str(port),
    }
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "credreg.cli", "serve", "--workers", str(API_SERVER_WORKERS)],
            cwd=work,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, log_path, min(90.0, deadline.left()))
            yield url
        finally:
            stop_process(process)


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise RuntimeError(f"credreg serve exited during start-up: {tail}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"credreg serve was not ready on {url} within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    documents_per_request: int = 1

    @property
    def rate(self) -> float:
        """Documents verified per second."""
        return self.requests * self.documents_per_request / self.seconds if self.seconds > 0 else 0.0


def _all_valid(reply: httpx.Response) -> bool:
    if reply.status_code != 200:
        return False
    body = reply.json()
    reports = body if isinstance(body, list) else [body]
    return all(report.get("verdict") == "valid" for report in reports)


def load(
    url: str, bodies: list[bytes], workers: int, seconds: float, documents_per_request: int = 1
) -> LoadResult:
    """`workers` threads POSTing `bodies` round robin for `seconds` (and at most MAX_API_REQUESTS requests in
    all); every answer must say "valid"."""
    counter = iter(range(MAX_API_REQUESTS))
    lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(workers)]
    errors = [0] * workers
    end = time.perf_counter() + seconds
    headers = {"content-type": "application/json"}

    def worker(w: int) -> None:
        with httpx.Client(base_url=url, timeout=10.0, headers=headers) as client:
            while time.perf_counter() < end:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                began = time.perf_counter()
                try:
                    ok = _all_valid(client.post("/v1/verify", content=bodies[n % len(bodies)]))
                except httpx.HTTPError:
                    ok = False
                latencies[w].append((time.perf_counter() - began) * 1000)
                if not ok:
                    errors[w] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    elapsed = time.perf_counter() - started
    merged = sorted(x for per in latencies for x in per)
    return LoadResult(len(merged), sum(errors), elapsed, merged, documents_per_request)


API_LIST = 20  # documents per request in the batched variant


def _load_runs(
    url: str,
    bodies: list[bytes],
    cfg: Config,
    per_request: int,
    deadline: Deadline,
    log: Callable[[str], None],
) -> list[LoadResult]:
    runs = []
    for _ in range(cfg.runs):
        deadline.check("API verification")
        result = load(url, bodies, cfg.api_workers, cfg.api_seconds, per_request)
        if result.errors:
            raise RuntimeError(f"{result.errors} of {result.requests} API answers were not all 'valid'")
        if not result.requests:
            raise RuntimeError("the API answered no request in time")
        runs.append(result)
        log(
            f"  POST /v1/verify ({per_request} per request): {result.rate:,.0f} documents/s, "
            f"p50 {percentile(result.latencies_ms, 0.5):.1f} ms, p99 {percentile(result.latencies_ms, 0.99):.1f} ms"
        )
    return runs


def _summary(runs: list[LoadResult]) -> list[dict[str, Any]]:
    return [
        {
            "requests": r.requests,
            "documents_per_second": r.rate,
            "p50_ms": percentile(r.latencies_ms, 0.5),
            "p99_ms": percentile(r.latencies_ms, 0.99),
        }
        for r in runs
    ]


def measure_verify_api(
    s: Setup, documents: list[bytes], cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> list[Row]:
    # For "where the time goes": the same one-document verification in this process, without HTTP.
    sample = [json.loads(d) for d in documents[:200]]
    started = time.perf_counter()
    for document in sample:
        verify_documents(s.registry, [document])
    in_process_ms = (time.perf_counter() - started) / len(sample) * 1000
    lists = [
        b"[" + b",".join(documents[i : i + API_LIST]) + b"]"
        for i in range(0, max(1, len(documents) - API_LIST + 1), API_LIST)
    ]
    with api_server(s, work, deadline) as url:
        load(url, documents[:50], 1, min(1.0, cfg.api_seconds))  # warm up: imports, connections, caches
        singles = _load_runs(url, documents, cfg, 1, deadline, log)
        batched = _load_runs(url, lists, cfg, min(API_LIST, len(documents)), deadline, log)
    rate = median([r.rate for r in singles])
    p50 = median([percentile(r.latencies_ms, 0.5) for r in singles])
    p99 = median([percentile(r.latencies_ms, 0.99) for r in singles])
    judge = "" if cfg.judge_rates else TOO_SMALL
    label = f"POST /v1/verify, {cfg.api_workers} clients"
    return [
        Row(
            "verify.api_rate",
            "verification",
            label + ", one document each, documents/s",
            "docs/s",
            rate,
            targets=[check("≥ 500 documents/s", rate, lambda v: v >= 500, judge)],
            detail={
                "workers": cfg.api_workers,
                "seconds_per_run": cfg.api_seconds,
                "runs": _summary(singles),
                "in_process_ms_per_document": in_process_ms,
                "basis": f"credreg serve --workers {API_SERVER_WORKERS}; client threads in the benchmark process",
                "server_workers": API_SERVER_WORKERS,
            },
        ),
        Row("verify.api_p50", "verification", label + ", one document each, median latency", "ms", p50),
        Row(
            "verify.api_p99",
            "verification",
            label + ", one document each, p99 latency",
            "ms",
            p99,
            targets=[check("p99 < 50 ms", p99, lambda v: v < 50, judge)],
        ),
        Row(
            "verify.api_lists",
            "verification",
            label + f", lists of {API_LIST}, documents/s",
            "docs/s",
            median([r.rate for r in batched]),
            detail={
                "runs": _summary(batched),
                "p99_ms_per_request": median([percentile(r.latencies_ms, 0.99) for r in batched]),
            },
        ),
    ]


# --- the audit ledger and its replay -------------------------------------------------------------------


class Rpc:
    """Plain JSON-RPC batches over one keep-alive connection (the ledger generator's only transport)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=120.0)
        self.ids = 0

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        payload = []
        for method, params in calls:
            self.ids += 1
            payload.append({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        replies = self.client.post("", json=payload).json()
        if not isinstance(replies, list):
            raise RuntimeError(f"the chain refused a batch: {replies}")
        by_id = {reply["id"]: reply for reply in replies}
        out = []
        for request in payload:
            reply = by_id[request["id"]]
            if "error" in reply:
                raise RuntimeError(f"{request['method']} failed: {reply['error']}")
            out.append(reply["result"])
        return out

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def close(self) -> None:
        self.client.close()


def generate_ledger(
    s: Setup, credentials: int, deadline: Deadline, log: Callable[[str], None]
) -> dict[str, Any]:
    """Issue `credentials` single-document credentials (one root each) and revoke one in LEDGER_REVOKE_EVERY,
    as fast as the dev chain takes them: the agency signs with the dev chain's own key for it (anvil's
    eth_signTypedData_v4), transactions go in JSON-RPC batches without waiting for each receipt, and a block
    is mined per batch."""
    rpc = Rpc(s.chain.url)
    started = time.perf_counter()
    registry = s.registry
    codec = registry.codec
    issue_deadline = registry.block_time() + 7 * 86_400
    typed_base = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **ISSUE_TYPES,
        },
        "primaryType": "Issue",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": registry.domain.chain_id,
            "verifyingContract": registry.address,
        },
    }
    relayer = s.relayer.address
    governor = s.governor.address
    relayer_nonce = int(rpc.call("eth_getTransactionCount", [relayer, "pending"]), 16)
    governor_nonce = int(rpc.call("eth_getTransactionCount", [governor, "pending"]), 16)
    fee = {"maxFeePerGas": hex(50 * 10**9), "maxPriorityFeePerGas": hex(10**9)}
    first_block = int(rpc.call("eth_blockNumber", []), 16) + 1
    rpc.call("evm_setAutomine", [False])

    def revoke_tx(root: str, nonce: int) -> tuple[str, list[Any]]:
        data = codec.call_data("governorSetStatus", s.agency_id, "0x" + root, "0x" + root, [], 1, 1)
        tx = {
            "from": governor,
            "to": registry.address,
            "data": data,
            "gas": hex(200_000),
            "nonce": hex(nonce),
        }
        return ("eth_sendTransaction", [{**tx, **fee}])

    issued = revoked = 0
    revoke_next: list[str] = []
    try:
        for start in range(0, credentials, LEDGER_CHUNK):
            deadline.check("generating the audit ledger")
            roots = [
                leaf_hash(f"ledger {i}").hex() for i in range(start, min(credentials, start + LEDGER_CHUNK))
            ]
            signatures = rpc.batch(
                [
                    (
                        "eth_signTypedData_v4",
                        [
                            s.signer.address,
                            {
                                **typed_base,
                                "message": {
                                    "root": "0x" + r,
                                    "scope": s.scope_id,
                                    "validUntil": 0,
                                    "deadline": issue_deadline,
                                },
                            },
                        ],
                    )
                    for r in roots
                ]
            )
            sends = []
            for root, signature in zip(roots, signatures, strict=True):
                raw = signature[2:]
                r_word, s_word, v = raw[:64], raw[64:128], int(raw[128:130], 16)
                s_int = int(s_word, 16)
                if s_int > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0:
                    raise RuntimeError(
                        "the dev chain returned a high-s signature, which the registry rejects"
                    )
                vs = f"{s_int | ((v - 27) << 255):064x}"
                data = codec.call_data(
                    "issue", "0x" + root, s.scope_id, 0, issue_deadline, "0x" + r_word, "0x" + vs
                )
                sends.append(
                    (
                        "eth_sendTransaction",
                        [
                            {
                                "from": relayer,
                                "to": registry.address,
                                "data": data,
                                "gas": hex(LEDGER_ISSUE_GAS),
                                "nonce": hex(relayer_nonce),
                                **fee,
                            }
                        ],
                    )
                )
                relayer_nonce += 1
            # Revoke roots of the previous batch (mined already: in one block, the order of two senders'
            # transactions is the miner's choice).
            sends += [revoke_tx(root, governor_nonce + n) for n, root in enumerate(revoke_next)]
            governor_nonce += len(revoke_next)
            revoked += len(revoke_next)
            revoke_next = [
                r for n, r in enumerate(roots) if (start + n) % LEDGER_REVOKE_EVERY == LEDGER_REVOKE_EVERY - 1
            ]
            hashes = rpc.batch(sends)
            # The last issue and every revocation: an issue that failed would make its revocation fail.
            mine_and_check(rpc, hashes[len(roots) - 1 :])
            issued += len(roots)
            if (start // LEDGER_CHUNK) % 40 == 39:
                log(f"  ledger: {issued:,} credentials issued")
        if revoke_next:
            sends = [revoke_tx(root, governor_nonce + n) for n, root in enumerate(revoke_next)]
            mine_and_check(rpc, rpc.batch(sends))
            revoked += len(revoke_next)
    finally:
        rpc.call("evm_setAutomine", [True])
        rpc.close()
    last_block = s.registry.head()
    pending = s.w3.eth.get_transaction_count(relayer, "pending") - s.w3.eth.get_transaction_count(relayer)
    if pending:
        raise RuntimeError(f"{pending} ledger transactions were left unmined")
    seconds = time.perf_counter() - started
    return {
        "credentials": issued,
        "revocations": revoked,
        "first_block": first_block,
        "last_block": last_block,
        "seconds": seconds,
        "per_second": issued / seconds,
    }


def generate_churn(s: Setup, events: int, deadline: Deadline) -> dict[str, Any]:
    """`events` governor status changes on CHURN_TARGETS credentials of the ledger: each block suspends them
    all and reinstates them all, so the ledger grows while the rebuilt state stays the same size."""
    rpc = Rpc(s.chain.url)
    registry = s.registry
    codec = registry.codec
    targets = [
        leaf_hash(f"ledger {i}").hex()
        for i in range(CHURN_TARGETS + CHURN_TARGETS // LEDGER_REVOKE_EVERY + 1)
        if i % LEDGER_REVOKE_EVERY != LEDGER_REVOKE_EVERY - 1  # those are revoked for good
    ][:CHURN_TARGETS]
    governor = s.governor.address
    nonce = int(rpc.call("eth_getTransactionCount", [governor, "pending"]), 16)
    fee = {"maxFeePerGas": hex(50 * 10**9), "maxPriorityFeePerGas": hex(10**9)}
    started = time.perf_counter()
    first_block = int(rpc.call("eth_blockNumber", []), 16) + 1
    done = 0
    rpc.call("evm_setAutomine", [False])
    try:
        while done < events:
            deadline.check("generating the audit ledger's status changes")
            sends = []
            for action in (2, 3):  # suspend all, then reinstate all (one sender: nonce order is kept)
                for root in targets:
                    data = codec.call_data(
                        "governorSetStatus", s.agency_id, "0x" + root, "0x" + root, [], action, 7
                    )
                    tx = {"from": governor, "to": registry.address, "data": data, "gas": hex(120_000)}
                    sends.append(("eth_sendTransaction", [{**tx, "nonce": hex(nonce), **fee}]))
                    nonce += 1
            mine_and_check(rpc, rpc.batch(sends)[-1:])
            done += len(sends)
    finally:
        rpc.call("evm_setAutomine", [True])
        rpc.close()
    seconds = time.perf_counter() - started
    return {
        "status_changes": done,
        "targets": len(targets),
        "first_block": first_block,
        "last_block": s.registry.head(),
        "seconds": seconds,
    }


def mine_and_check(rpc: Rpc, hashes: Sequence[str]) -> None:
    """Mine the pending transactions into one block and make sure `hashes` are in it and succeeded."""
    rpc.call("evm_mine", [])
    for receipt in rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes]):
        if receipt is None:
            raise RuntimeError("a ledger transaction was left unmined")
        if int(receipt["status"], 16) != 1:
            raise RuntimeError(f"ledger transaction {receipt['transactionHash']} reverted")


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB (VmRSS, VmHWM: unlike getrusage's
    ru_maxrss, the peak starts afresh at exec, so a child does not inherit its parent's)."""
    fields: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def replay_worker(rpc_url: str, manifest_path: str, to_block: int, profile_out: str | None) -> dict[str, Any]:
    """Run in a fresh process (for a clean peak-memory figure): replay the ledger up to `to_block`."""
    from credreg.audit import Replayer

    registry = Registry.connect(rpc_url, Manifest.load(Path(manifest_path)))
    replayer = Replayer(registry)
    reads = count_log_reads(replayer)
    baseline, _ = rss_mb()
    profiler = cProfile.Profile() if profile_out else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    replayer.run(to_block)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_out)
    seconds = time.perf_counter() - started
    _, peak = rss_mb()
    digest = replayer.digest()
    return {
        "events": digest.event_count,
        "through_block": digest.through_block,
        "seconds": seconds,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
        "findings": len(replayer.findings),
        "log_reads": reads,
    }


def count_log_reads(replayer: Any) -> dict[str, int]:
    """Count what the replay asks the node for (eth_getLogs calls, logs returned, the largest reply): logs
    read beyond the events replayed are windows fetched and thrown away. Best effort: reads the replay's
    log source through its private fetch method, and counts nothing if that changes."""
    reads = {"calls": 0, "logs": 0, "largest": 0}
    source = getattr(replayer, "source", None)
    fetch = getattr(source, "_get_logs", None)
    if source is None or not callable(fetch):
        return reads

    def counted(start: int, end: int) -> Any:
        result = fetch(start, end)
        logs = result[0] if isinstance(result, tuple) else result
        if isinstance(logs, list):
            reads["calls"] += 1
            reads["logs"] += len(logs)
            reads["largest"] = max(reads["largest"], len(logs))
        return result

    source._get_logs = counted
    return reads


def run_replay(
    s: Setup, work: Path, to_block: int, deadline: Deadline, profile_out: Path | None = None
) -> dict[str, Any]:
    deadline.check("the audit replay")
    manifest_path = work / "replay-deployment.json"
    s.manifest.save(manifest_path)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--replay-worker",
        s.chain.url,
        str(manifest_path),
        str(to_block),
    ]
    if profile_out is not None:
        cmd += ["--profile-out", str(profile_out)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=max(1.0, min(900.0, deadline.left())), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the replay failed: {done.stderr.strip()[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_audit(
    s: Setup, cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> tuple[list[Row], dict[str, Any]]:
    ledger = generate_ledger(s, cfg.ledger_credentials, deadline, log)
    log(
        f"  ledger: {ledger['credentials']:,} credentials in {ledger['seconds']:.1f} s "
        f"({ledger['per_second']:,.0f}/s), blocks {ledger['first_block']}..{ledger['last_block']}"
    )
    churn = generate_churn(s, cfg.churn_events, deadline)
    log(f"  ledger: {churn['status_changes']:,} status changes on {churn['targets']} credentials after them")
    # Fresh processes replay to the end of the credentials (what the rebuilt state costs), to half-way
    # through the status changes and to their end: the state is the same at the last two points and both
    # replays went through the same dense stretch, so what memory grows by between them is what the replay
    # holds per event (it should hold nothing).
    credentials_only = run_replay(s, work, ledger["last_block"], deadline)
    part = run_replay(s, work, (churn["first_block"] + churn["last_block"]) // 2, deadline)
    fulls = []
    for _ in range(cfg.runs):
        full = run_replay(s, work, churn["last_block"], deadline)
        fulls.append(full)
        log(
            f"  replay {full['events']:,} events: {full['events'] / full['seconds']:,.0f}/s, "
            f"peak {full['peak_rss_mb']:.0f} MB"
        )
    rate = median([f["events"] / f["seconds"] for f in fulls])
    peak = median([f["peak_rss_mb"] for f in fulls])
    events = fulls[0]["events"]
    added_full = median([f["peak_rss_mb"] - f["baseline_rss_mb"] for f in fulls])
    added_part = part["peak_rss_mb"] - part["baseline_rss_mb"]
    extra_events = max(1, events - part["events"])
    growth_kb_per_1k = (added_full - added_part) * 1024 / extra_events * 1000
    added_credentials = credentials_only["peak_rss_mb"] - credentials_only["baseline_rss_mb"]
    state_kb_per_1k = added_credentials * 1024 / max(1, ledger["credentials"]) * 1000
    findings = max(f["findings"] for f in fulls)
    applies = (
        ""
        if ledger["credentials"] >= 100_000
        else f"the target is for ≥ 100,000 credentials; this ledger has {ledger['credentials']:,}"
    )
    ledger = {**ledger, "churn": churn}
    rows = [
        Row(
            "audit.replay_rate",
            "audit",
            f"replay {events:,} events ({ledger['credentials']:,} credentials)",
            "events/s",
            rate,
            targets=[check("≥ 20,000 events/s", rate, lambda v: v >= 20_000, applies)],
            detail={
                "runs": fulls,
                "to_end_of_credentials": credentials_only,
                "to_half_of_status_changes": part,
                "ledger": ledger,
                "findings": findings,
            },
        ),
        Row(
            "audit.peak_memory",
            "audit",
            "replay peak memory (whole process RSS)",
            "MB",
            peak,
            detail={
                "added_by_replay_mb": added_full,
                "per_1000_credentials_kb": state_kb_per_1k,
                "basis": "the rebuilt state holds every root and status target, as the contract does",
            },
        ),
        Row(
            "audit.memory_growth",
            "audit",
            f"replay memory growth, last {extra_events:,} events (same state), per 1,000",
            "KB",
            growth_kb_per_1k,
            targets=[
                check(
                    # Any per-event object kept would cost well over 100 bytes; below that is allocator noise.
                    "memory does not grow with the ledger (< 100 KB per 1,000 events)",
                    growth_kb_per_1k,
                    lambda v: v < 100,
                    applies,
                )
            ],
            detail={
                "added_by_replay_mb": {
                    "to_end_of_credentials": added_credentials,
                    "to_half_of_status_changes": added_part,
                    "whole": added_full,
                },
                "events": {
                    "to_end_of_credentials": credentials_only["events"],
                    "to_half_of_status_changes": part["events"],
                    "whole": events,
                },
            },
        ),
    ]
    return rows, ledger


# --- machine, versions, output -------------------------------------------------------------------------


def _npm_version(package: str) -> str | None:
    path = PROJECT_ROOT / "node_modules" / package / "package.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _command_output(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, cwd=PROJECT_ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gb": memory_gb,
        "load_average_start": os.getloadavg(),
    }


def versions() -> dict[str, Any]:
    packages = ("credreg", "web3", "eth-account", "eth-abi", "fastapi", "pydantic", "uvicorn", "httpx")
    py: dict[str, str | None] = {}
    for name in packages:
        try:
            py[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            py[name] = None
    npm = {
        name: _npm_version(name)
        for name in (
            "@govtechsg/open-attestation",
            DOCUMENT_STORE_PACKAGE.rsplit("@", 1)[0],
            DOCUMENT_STORE_V4_PACKAGE.rsplit("@", 1)[0],
            EAS_PACKAGE.rsplit("@", 1)[0],
            "@foundry-rs/anvil",
            "solc",
        )
    }
    artifact = json.loads(
        (PROJECT_ROOT / "src" / "credreg" / "chain" / "artifacts" / "CredentialRegistry.json").read_text()
    )
    return {
        "python": platform.python_version(),
        "node": _command_output(["node", "--version"]),
        "anvil": _command_output([str(node_tool("anvil")), "--version"]),
        "solc": artifact.get("compiler", {}).get("version"),
        "solc_settings": artifact.get("compiler", {}).get("settings"),
        "python_packages": py,
        "npm_packages": npm,
    }


def git_commit() -> dict[str, Any]:
    commit = _command_output(["git", "rev-parse", "HEAD"])
    status = _command_output(["git", "status", "--porcelain"])
    return {"commit": commit, "dirty": bool(status)}


def fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "gas":
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    if unit in ("s", "ms", "MB", "KB"):
        return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,.0f}"


def render(rows: list[Row], peer_names: dict[str, str]) -> str:
    headers = ["figure", "unit", "credreg", *peer_names.values(), "target", "status"]
    table: list[list[str]] = [headers]
    for row in rows:
        cells = [
            row.label,
            row.unit,
            fmt(row.credreg, row.unit) if row.credreg is not None else (row.note or "—"),
        ]
        for peer in peer_names:
            value = row.peers.get(peer)
            ratio = row.ratio(peer)
            cells.append(
                ""
                if value is None
                else f"{fmt(value, row.unit)} ({ratio:.2f}×)"
                if ratio
                else fmt(value, row.unit)
            )
        cells.append("; ".join(t.text for t in row.targets))
        cells.append(
            "; ".join(t.status + (f" ({t.why})" if t.why and t.status == "n/a" else "") for t in row.targets)
        )
        table.append(cells)
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    lines = []
    for i, line in enumerate(table):
        lines.append(
            "  ".join(
                cell.ljust(widths[j])
                if j in (0, 1, len(headers) - 2, len(headers) - 1)
                else cell.rjust(widths[j])
                for j, cell in enumerate(line)
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def not_measured(ids_labels: Sequence[tuple[str, str, str, str]], why: str) -> list[Row]:
    return [
        Row(i, section, label, unit, None, note=f"not measured: {why}")
        for i, section, label, unit in ids_labels
    ]


ROW_SKELETON: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "gas": (
        ("gas.issue_single", "gas", "gas per credential: issue one", "gas"),
        ("gas.root_100", "gas", "gas per credential: batch of 100, one root", "gas"),
        ("gas.each_100", "gas", "gas per credential: 100 entries in one call", "gas"),
        ("gas.root_10000", "gas", "gas per credential: batch of 10,000, one root", "gas"),
        ("gas.revoke_single", "gas", "gas: revoke a single-document credential", "gas"),
        ("gas.revoke_leaf", "gas", "gas: revoke one of a 10,000 batch (depth 14)", "gas"),
    ),
    "issuance": (
        ("issue.end_to_end", "issuance", "issue a batch end to end", "s"),
        ("issue.wrap_write", "issuance", "wrap + write a batch (no ledger)", "s"),
        ("growth.1", "growth", "issue end to end, small", "s"),
        ("growth.2", "growth", "issue end to end, medium", "s"),
        ("growth.3", "growth", "issue end to end, large", "s"),
    ),
    "export_vc": (("issue.export_vc", "issuance", "export a batch as VC 2.0 and write it", "s"),),
    "verify_library": (("verify.library", "verification", "verify documents in one batch", "docs/s"),),
    "verify_api": (
        ("verify.api_rate", "verification", "POST /v1/verify, documents/s", "docs/s"),
        ("verify.api_p50", "verification", "POST /v1/verify, median latency", "ms"),
        ("verify.api_p99", "verification", "POST /v1/verify, p99 latency", "ms"),
        ("verify.api_lists", "verification", "POST /v1/verify, lists of documents, documents/s", "docs/s"),
    ),
    "cli": (
        ("cli.help", "command line", "credreg --help, a fresh process", "s"),
        ("cli.verify_one", "command line", "credreg verify one.json, its ledger read included", "s"),
        ("verify.cli_bulk", "verification", "credreg verify over many files", "docs/s"),
    ),
    "audit": (
        ("audit.replay_rate", "audit", "replay the ledger", "events/s"),
        ("audit.peak_memory", "audit", "replay peak memory (whole process RSS)", "MB"),
        ("audit.memory_growth", "audit", "replay memory growth per 1,000 events", "KB"),
    ),
}
ROW_IDS: tuple[str, ...] = tuple(row[0] for rows in ROW_SKELETON.values() for row in rows)


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


# --- main ----------------------------------------------------------------------------------------------


def run(
    cfg: Config, out_path: Path, profile_dir: Path | None, keep: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    deadline = Deadline(cfg.timeout)
    started = time.perf_counter()
    info = {"machine": machine(), "versions": versions(), "git": git_commit()}
    work = Path(tempfile.mkdtemp(prefix="credreg-bench-"))
    rows: list[Row] = []
    profiles: dict[str, str] = {}
    errors: dict[str, str] = {}
    chain = BenchChain(host="127.0.0.1", port=free_port(), persist=False)
    try:
        with chain:
            if not rpc_answers(chain.url):
                raise RuntimeError(f"anvil does not answer on {chain.url}")
            s = deploy_credreg(chain)
            log(f"chain {chain.url}, credreg at {s.registry.address}")

            def section(key: str, action: Callable[[], list[Row]]) -> None:
                log(f"{key} …")
                try:
                    rows.extend(action())
                except Exception as exc:  # one section failing must not hide the others' figures
                    errors[key] = f"{type(exc).__name__}: {exc}"
                    log(f"  {key} failed: {errors[key]}")
                    rows.extend(not_measured(ROW_SKELETON[key], errors[key][:200]))

            section("gas", lambda: measure_gas(s))
            kept: list[IssueRun] = []

            def issuance() -> list[Row]:
                got, run_ = measure_issuance(s, cfg, work, deadline, log)
                kept.append(run_)
                return got

            section("issuance", issuance)
            documents = [p.read_bytes() for p in kept[0].files] if kept else []
            oa_batch = next((r.peers.get("oa_lib") for r in rows if r.id == "issue.wrap_write"), None)
            section(
                "export_vc",
                lambda: (
                    measure_export_vc(documents, oa_batch, cfg, work, deadline, log)
                    if documents
                    else not_measured(ROW_SKELETON["export_vc"], "no issued documents")
                ),
            )
            section(
                "verify_library",
                lambda: (
                    [measure_verify_library(s, documents, cfg, deadline, log)]
                    if documents
                    else not_measured(ROW_SKELETON["verify_library"], "no issued documents")
                ),
            )
            section(
                "verify_api",
                lambda: (
                    measure_verify_api(s, documents, cfg, work, deadline, log)
                    if documents
                    else not_measured(ROW_SKELETON["verify_api"], "no issued documents")
                ),
            )
            library_rate = next((r.credreg for r in rows if r.id == "verify.library"), None)
            section(
                "cli",
                lambda: (
                    measure_cli(s, kept[0].files, library_rate, cfg, work, deadline, log)
                    if kept
                    else not_measured(ROW_SKELETON["cli"], "no issued documents")
                ),
            )
            section("audit", lambda: measure_audit(s, cfg, work, deadline, log)[0])

            missed = {row.id for row in rows for t in row.targets if t.status == "missed"}
            if profile_dir is not None and missed:
                profile_dir.mkdir(parents=True, exist_ok=True)
                if "issue.end_to_end" in missed:
                    profiles["issue.end_to_end"] = profile_call(
                        "issue", lambda: issue_once(s, work, cfg.batch, 7, deadline), profile_dir
                    )
                if "verify.library" in missed and documents:
                    profiles["verify.library"] = profile_call(
                        "verify", lambda: verify_documents(s.registry, documents), profile_dir
                    )
                if "audit.replay_rate" in missed:
                    path = profile_dir / "profile-replay.pstats"
                    run_replay(s, work, s.registry.head(), deadline, profile_out=path)
                    profiles["audit.replay_rate"] = summarize_profile(path)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    order = {row_id: i for i, row_id in enumerate(ROW_IDS)}
    rows.sort(key=lambda r: order.get(r.id, len(order)))
    info["machine"]["load_average_end"] = os.getloadavg()
    result = {
        "benchmark": "credreg",
        "configuration": asdict(cfg),
        "command": " ".join([Path(sys.executable).name, "scripts/bench.py", *sys.argv[1:]]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - started,
        **info,
        "peers": PEERS,
        "ratio": "credreg ÷ peer (below 1: credreg uses less gas or takes less time)",
        "rows": [asdict(row) for row in rows],
        "targets": [{"row": row.id, **asdict(t)} for row in rows for t in row.targets],
        "errors": errors,
        "profiles": profiles,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def report(result: dict[str, Any], out_path: Path) -> str:
    rows = [Row(**{**r, "targets": [Target(**t) for t in r["targets"]]}) for r in result["rows"]]
    m = result["machine"]
    lines = [
        f"credreg benchmark ({result['configuration']['name']}, median of {result['configuration']['runs']} "
        f"run(s); gas measured once) on {m['cpu']}, {m['cores_usable']} cores, load average "
        f"{m['load_average_start'][0]:.1f} at start, {m['load_average_end'][0]:.1f} at end",
        "Peer columns: the peer's figure and, in brackets, credreg ÷ peer (below 1: credreg uses less gas or",
        "takes less time). Gas is each transaction's gasUsed, 21,000 base and calldata included.",
        "",
        render(rows, PEERS),
        "",
    ]
    for row in rows:
        phases = row.detail.get("phases")
        if row.id == "issue.end_to_end" and phases:
            spent = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items())
            lines.append(f"Where issuing {row.detail['size']:,} certificates spends its time: {spent}.")
        if row.id == "verify.api_rate" and row.credreg and "in_process_ms_per_document" in row.detail:
            lines.append(
                f"Verifying one document takes {row.detail['in_process_ms_per_document']:.1f} ms in-process "
                f"(its ledger reads included); through HTTP, `credreg serve --workers "
                f"{row.detail.get('server_workers', API_SERVER_WORKERS)}` answers {row.credreg:,.0f} a second."
            )
        if row.id == "cli.verify_one" and "cpu_seconds" in row.detail:
            help_row = next((r for r in rows if r.id == "cli.help"), None)
            help_cpu = help_row.detail.get("cpu_seconds") if help_row else None
            lines.append(
                f"CPU time of one start (what a shared machine's load does not inflate): python -c pass "
                f"{row.detail['baseline_cpu_seconds']:.2f} s, credreg --help "
                f"{'—' if help_cpu is None else f'{help_cpu:.2f}'} s, credreg verify one.json "
                f"{row.detail['cpu_seconds']:.2f} s."
            )
        if row.id == "audit.replay_rate" and row.detail.get("runs"):
            first = row.detail["runs"][0]
            reads = first.get("log_reads") or {}
            if reads.get("calls"):
                lines.append(
                    f"The replay read {reads['logs']:,} logs in {reads['calls']} eth_getLogs calls for "
                    f"{first['events']:,} events (largest reply {reads['largest']:,} logs); its peak memory "
                    f"was {first['peak_rss_mb'] - first['baseline_rss_mb']:,.0f} MB above its start."
                )
    missed = [t for t in result["targets"] if t["status"] == "missed"]
    met = [t for t in result["targets"] if t["status"] == "met"]
    lines.append(
        f"Targets: {len(met)} met, {len(missed)} missed, {len(result['targets']) - len(met) - len(missed)} not applicable."
    )
    for t in missed:
        lines.append(f"  MISSED {t['row']}: {t['text']}")
    for name, text in result["profiles"].items():
        lines += ["", f"Profile of {name} (the missed target's code, by own time):", text]
    for key, why in result["errors"].items():
        lines.append(f"ERROR in {key}: {why}")
    lines.append(f"Written to {out_path} ({result['seconds']:.0f} s in all).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="the smallest configuration (seconds, not minutes)"
    )
    parser.add_argument(
        "--runs", type=int, help="repetitions of each timed figure (default 3, 1 with --quick)"
    )
    parser.add_argument("--no-large", action="store_true", help="skip the 100,000-certificate issuance")
    parser.add_argument(
        "--oa-large", action="store_true", help="also run OpenAttestation's wrapping at 100,000"
    )
    parser.add_argument(
        "--out", type=Path, help="where to write the JSON (default bench-results/bench-<time>.json)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="profile the code behind missed targets into DIR"
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory (documents, logs)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument(
        "--replay-worker", nargs=3, metavar=("RPC", "MANIFEST", "BLOCK"), help=argparse.SUPPRESS
    )
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay_worker:
        rpc_url, manifest_path, block = args.replay_worker
        if not rpc_url.startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error("the replay worker only reads a loopback chain")
        print(json.dumps(replay_worker(rpc_url, manifest_path, int(block), args.profile_out)))
        return 0
    cfg = QUICK if args.quick else FULL
    if args.runs is not None:
        if not 1 <= args.runs <= 20:
            parser.error("--runs must be between 1 and 20")
        cfg = Config(**{**asdict(cfg), "runs": args.runs})
    if args.no_large:
        cfg = Config(**{**asdict(cfg), "sizes": (cfg.sizes[0], cfg.sizes[1], cfg.sizes[1] * 2)})
    if args.oa_large:
        cfg = Config(**{**asdict(cfg), "oa_sizes": tuple(sorted({*cfg.oa_sizes, cfg.sizes[2]}))})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = args.out or PROJECT_ROOT / "bench-results" / f"bench-{stamp}-{cfg.name}.json"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = run(cfg, out_path, args.profile, args.keep, log)
    print(report(result, out_path))
    if result["errors"]:
        return 2
    if args.strict and any(t["status"] == "missed" for t in result["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
