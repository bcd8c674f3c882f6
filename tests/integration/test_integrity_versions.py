"""A ledger deployed by contract version 1 is detected, never read as version 2 (issue 10, "Contract
versions"): `credreg verify`, `credreg audit`, `credreg serve` / the API and `credreg run` each refuse it,
saying plainly that it is contract version 1.0.0 and what to do.

The version 1 registry is the committed artifact of that version (fixtures/CredentialRegistry-v1.json,
`git show b64200c:src/credreg/chain/artifacts/CredentialRegistry.json`, unchanged), deployed on a real anvil
and given a scope, an agency, a signer key and one issued root through its own ABI. Two manifests point at
it: one that says 1.0.0 (the truth), and one that claims 2.0.0 (a lie only asking the contract catches).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_world import IDENTITY_LOCATION, LEVEL, OCCUPATION
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from lifecycle_support import Cli, sample_results
from service_support import live_server
from web3 import Web3

from credreg.api import create_app
from credreg.chain.client import connect
from credreg.chain.devchain import DevChain, ephemeral_chain, free_port, stop_recorded_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.manifest import DeployedContract, Manifest
from credreg.config import Settings
from credreg.documents.layout import wrap_certificates
from credreg.documents.model import AgencyRef
from credreg.documents.results import IssueContext, read_results
from credreg.documents.wrap import dump_document
from credreg.errors import CredregError
from credreg.registry import Registry, scope_id_of

ROOT = Path(__file__).resolve().parents[2]
V1_ARTIFACT = Path(__file__).with_name("fixtures") / "CredentialRegistry-v1.json"
GOVERNOR, ADMIN, SIGNER, RELAYER = (Account.from_key(k) for k in ANVIL_TEST_KEYS[:4])
TRUTH, LIE = "1.0.0", "2.0.0"
STARTUP_SECONDS = 60.0
PROBLEM_TYPE = "application/problem+json"


def says_version_1_and_what_to_do(text: str) -> None:
    """The refusal names the version found and the way forward, and is no traceback."""
    flat = " ".join(text.split())
    assert "Traceback" not in text, text
    assert "contract version 1.0.0" in flat, flat
    assert any(
        advice in flat
        for advice in ("credreg release that deployed it", "run `credreg run` again", "registry of version 2")
    ), flat


@dataclass(frozen=True)
class V1Ledger:
    """A contract version 1 registry on a chain, with one agency and one issued root."""

    url: str
    address: str
    deployment_block: int
    transaction_hash: str
    agency_id: int
    root: str
    document: dict[str, Any]

    def manifest(self, claimed_version: str) -> Manifest:
        artifact = json.loads(V1_ARTIFACT.read_text(encoding="utf-8"))
        return Manifest(
            chain_id=31337,
            registry=DeployedContract(
                address=self.address,
                deployment_block=self.deployment_block,
                transaction_hash=self.transaction_hash,
                bytecode_hash="0x" + keccak(hexstr=artifact["bytecode"]).hex(),
                deployed_bytecode_hash="0x" + keccak(hexstr=artifact["deployedBytecode"]).hex(),
            ),
            governor=GOVERNOR.address,
            contract_version=claimed_version,
            compiler_version=artifact["compiler"]["version"],
            evm_version=artifact["compiler"]["settings"]["evmVersion"],
            optimizer_runs=artifact["compiler"]["settings"]["optimizer"]["runs"],
            credreg_version="0.1.0",
            deployed_at=datetime.now(UTC),
        )

    def data_dir(self, base: Path, claimed_version: str) -> Path:
        """A data directory whose deployment manifest says `claimed_version`, with the document in it."""
        data = base / f"data-{claimed_version}"
        data.mkdir(parents=True, exist_ok=True)
        self.manifest(claimed_version).save(data / "deployment.json")
        (base / "certificate.json").write_text(dump_document(self.document) + "\n", encoding="utf-8")  # type: ignore[arg-type]
        return data


def _transact(w3: Web3, account: LocalAccount, call: Any) -> Any:
    tx = call.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address), "chainId": 31337}
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction), timeout=30
    )
    assert receipt["status"] == 1, receipt
    return receipt


def deploy_v1(url: str, base: Path) -> V1Ledger:
    """Deploy the version 1 registry (constructor(address governor)) and record one batch through its ABI."""
    artifact = json.loads(V1_ARTIFACT.read_text(encoding="utf-8"))
    w3 = connect(url)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    deployed = _transact(w3, GOVERNOR, factory.constructor(GOVERNOR.address))
    address = deployed["contractAddress"]
    v1 = w3.eth.contract(address=address, abi=artifact["abi"])
    assert v1.functions.VERSION().call() == "1.0.0"

    _transact(w3, GOVERNOR, v1.functions.defineScope(OCCUPATION, LEVEL, "Electrician, level 3"))
    scope = scope_id_of(OCCUPATION, LEVEL)
    _transact(w3, GOVERNOR, v1.functions.registerAgency("Version One Centre", "V1-0001", ADMIN.address))
    now = int(w3.eth.get_block("latest")["timestamp"])
    _transact(w3, GOVERNOR, v1.functions.accredit(1, scope, now - 60, 0))
    _transact(w3, ADMIN, v1.functions.addSigner(1, SIGNER.address, now - 60, 0))

    context = IssueContext(
        agency=AgencyRef(id=1, name="Version One Centre"), chain_id=31337, registry=address
    )
    rows = sample_results(base / "v1.csv", 2, prefix="VONE").read_bytes()
    certificates = read_results(io.BytesIO(rows), context=context, file_format="csv")
    documents = wrap_certificates(certificates, identity_location=IDENTITY_LOCATION)
    root = "0x" + documents[0]["signature"]["merkleRoot"]
    # Version 1's Issue(bytes32 root,bytes32 scope,uint40 validUntil) digest, signed in EIP-2098 form.
    digest = v1.functions.issueDigest(root, scope, 0).call()
    signature = SIGNER.unsafe_sign_hash(digest)
    vs = ((signature.v - 27) << 255) | signature.s
    _transact(
        w3,
        RELAYER,
        v1.functions.issue(root, scope, 0, signature.r.to_bytes(32, "big"), vs.to_bytes(32, "big")),
    )
    assert v1.functions.isIssued(root).call()
    return V1Ledger(
        url,
        address,
        int(deployed["blockNumber"]),
        deployed["transactionHash"].to_0x_hex(),
        1,
        root,
        dict(documents[0]),
    )


@pytest.fixture(scope="module")
def v1_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[V1Ledger]:
    with ephemeral_chain() as chain:
        yield deploy_v1(chain.url, tmp_path_factory.mktemp("v1-ledger"))


def cli_in(data: Path, ledger: V1Ledger) -> Cli:
    return Cli(data.parent, {"CREDREG_DATA_DIR": str(data), "CREDREG_RPC_URL": ledger.url, "COLUMNS": "200"})


# --- credreg verify and credreg audit -----------------------------------------------------------------


@pytest.mark.parametrize("claimed", [TRUTH, LIE])
@pytest.mark.parametrize(
    "command", [("verify", "certificate.json"), ("audit", "replay"), ("audit", "status")], ids=" ".join
)
def test_cli_refuses_a_version_1_ledger_with_exit_2_and_says_what_to_do(
    v1_ledger: V1Ledger, tmp_path: Path, claimed: str, command: tuple[str, ...]
) -> None:
    data = v1_ledger.data_dir(tmp_path, claimed)
    ran = cli_in(data, v1_ledger).fails(2, *command)
    says_version_1_and_what_to_do(ran.err)
    assert not ran.out.strip(), "nothing was reported from a ledger of another version"


def test_verify_refuses_a_version_1_registry_named_by_a_trust_list(
    v1_ledger: V1Ledger, tmp_path: Path
) -> None:
    """A trust list does not say the version: the contract is asked."""
    data = v1_ledger.data_dir(tmp_path, TRUTH)
    (data / "deployment.json").unlink()
    trust = tmp_path / "trust-list.json"
    trust.write_text(
        json.dumps(
            {
                "credreg_trust_list": 1,
                "chain_id": 31337,
                "registry": v1_ledger.address,
                "rpc_urls": [v1_ledger.url],
            }
        ),
        encoding="utf-8",
    )
    ran = cli_in(data, v1_ledger).fails(2, "verify", "certificate.json", "--registry", str(trust))
    says_version_1_and_what_to_do(ran.err)


# --- the API and credreg serve ------------------------------------------------------------------------


def test_the_api_refuses_to_start_on_a_manifest_of_version_1(v1_ledger: V1Ledger, tmp_path: Path) -> None:
    data = v1_ledger.data_dir(tmp_path, TRUTH)
    settings = api_settings(data, v1_ledger)
    with pytest.raises(CredregError) as refused:
        create_app(settings)
    says_version_1_and_what_to_do(str(refused.value))


def api_settings(data: Path, ledger: V1Ledger) -> Settings:
    """The service's settings over the manifest in `data`, polling fast; nothing read from the environment."""
    return Settings(
        _env_file=None,
        data_dir=data,
        rpc_url=ledger.url,
        manifest=data / "deployment.json",
        outbox_poll_seconds=0.05,
        index_poll_seconds=0.05,
        rpc_timeout=5.0,
        worker_id="test-instance",
    )


def _signed_v2_issue_body(ledger: V1Ledger) -> dict[str, Any]:
    """A well-formed version 2 issuance for the registry's address (what an agency's new tools send)."""
    registry = Registry(connect(ledger.url), ledger.manifest(LIE))
    request = registry.issue_request("0x" + "ab" * 32, scope_id_of(OCCUPATION, LEVEL), 0)
    return registry.sign_issue(SIGNER, request).model_dump(mode="json")


def test_the_api_over_a_manifest_that_lies_about_the_version_never_answers_from_the_version_1_ledger(
    v1_ledger: V1Ledger, tmp_path: Path
) -> None:
    """The manifest claims 2.0.0; the contract answers VERSION() 1.0.0. Either the service refuses to start,
    or every answer that reads the ledger is a 503 problem naming version 1.0.0. None may be read from the
    version 1 contract through the version 2 ABI."""
    data = v1_ledger.data_dir(tmp_path, LIE)
    settings = api_settings(data, v1_ledger)
    try:
        app = create_app(settings)
    except CredregError as refused:
        says_version_1_and_what_to_do(str(refused))
        return
    reads: list[tuple[str, str, Any]] = [
        ("GET", "/v1/agencies", None),
        ("GET", f"/v1/agencies/{v1_ledger.agency_id}", None),
        ("GET", "/v1/scopes", None),
        ("GET", f"/v1/credentials/{v1_ledger.root}", None),
        ("POST", "/v1/verify", v1_ledger.document),
        ("POST", "/v1/issuances", _signed_v2_issue_body(v1_ledger)),
        ("GET", "/v1/audit/report", None),
    ]
    wrong: list[str] = []
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        says_version_1_and_what_to_do(ready.json()["detail"])
        registry = client.get("/v1/registry")
        if registry.status_code == 200:
            assert registry.json()["contract_version"] == "1.0.0", registry.text  # the contract's own word
        for method, path, body in reads:
            answer = client.request(method, path, json=body)
            plain = " ".join(answer.text.split())
            if not (
                answer.status_code == 503
                and answer.headers.get("content-type", "").startswith(PROBLEM_TYPE)
                and "contract version 1.0.0" in plain
            ):
                wrong.append(f"{method} {path} -> {answer.status_code} {plain[:300]}")
    assert not wrong, "answered from a version 1 ledger:\n" + "\n".join(wrong)


def _serve(data: Path, ledger: V1Ledger, api_port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")} | {
        "CREDREG_DATA_DIR": str(data),
        "CREDREG_RPC_URL": ledger.url,
        "CREDREG_API_HOST": "127.0.0.1",
        "CREDREG_API_PORT": str(api_port),
        "COLUMNS": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "credreg.cli", "serve"],
        cwd=data, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop a process this test started (SIGINT to its own group, then SIGKILL) and collect its output."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate(timeout=10)


def test_serve_exits_2_on_a_manifest_of_version_1(v1_ledger: V1Ledger, tmp_path: Path) -> None:
    data = v1_ledger.data_dir(tmp_path, TRUTH)
    process = _serve(data, v1_ledger, free_port())
    try:
        out, err = process.communicate(timeout=STARTUP_SECONDS)
    except subprocess.TimeoutExpired:
        out, err = _stop(process)
        pytest.fail(f"credreg serve kept running on a version 1 manifest:\n{out[-2000:]}\n{err[-2000:]}")
    assert process.returncode == 2, (process.returncode, out, err)
    says_version_1_and_what_to_do(err)


def test_serve_over_a_manifest_that_lies_about_the_version_refuses_or_answers_503(
    v1_ledger: V1Ledger, tmp_path: Path
) -> None:
    data = v1_ledger.data_dir(tmp_path, LIE)
    port = free_port()
    process = _serve(data, v1_ledger, port)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        answer: httpx.Response | None = None
        while process.poll() is None and answer is None and time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/agencies", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.2)
        if process.poll() is not None:
            out, err = process.communicate(timeout=10)
            assert process.returncode == 2, (process.returncode, out, err)
            says_version_1_and_what_to_do(err)
            return
        assert answer is not None, "credreg serve neither exited nor answered"
        assert answer.status_code == 503, f"GET /v1/agencies -> {answer.status_code} {answer.text[:300]}"
        assert answer.headers["content-type"].startswith(PROBLEM_TYPE)
        says_version_1_and_what_to_do(answer.json()["detail"])
    finally:
        _stop(process)


# --- credreg run ---------------------------------------------------------------------------------------


def test_run_exits_2_on_a_data_dir_whose_ledger_is_version_1(tmp_path: Path) -> None:
    _run_refuses(tmp_path, TRUTH)


def test_run_exits_2_when_the_manifest_claims_2_but_the_ledger_is_version_1(tmp_path: Path) -> None:
    _run_refuses(tmp_path, LIE)


def _run_refuses(tmp_path: Path, claimed: str) -> None:
    """A data directory left by a version 1 `credreg run`: its saved chain holds the version 1 registry."""
    workdir = tmp_path / "work"
    data = workdir / ".credreg"
    data.mkdir(parents=True)
    with DevChain(data, port=free_port()) as chain:
        ledger = deploy_v1(chain.url, tmp_path)
        ledger.manifest(claimed).save(data / "deployment.json")
    assert (data / "chain" / "state.json").exists()
    chain_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")} | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CREDREG_CHAIN_PORT": str(chain_port),
        "CREDREG_API_PORT": str(api_port),
        "CREDREG_PROJECT_ROOT": str(ROOT),
        "COLUMNS": "200",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "credreg.cli", "run"],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        try:
            out, err = process.communicate(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            out, err = _stop(process)
            pytest.fail(f"credreg run kept running on a version 1 ledger:\n{out[-2000:]}\n{err[-2000:]}")
    finally:
        stop_recorded_chain(data)  # the anvil `credreg run` started, if it outlived it
    assert process.returncode == 2, (process.returncode, out, err)
    says_version_1_and_what_to_do(err)
    flat = " ".join(err.split())
    # Plainly: the chain does have that registry; it is of another version.
    assert "does not have" not in flat, flat
    assert json.loads((data / "deployment.json").read_text())["contract_version"] == claimed, "manifest kept"
