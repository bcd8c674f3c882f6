"""Regression tests for the ledger faults of issue 12: each names the failure it guards against."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chain_world import Deployed
from lifecycle_support import Cli
from service_support import assert_problem, live_server, service_settings

from credreg.api import create_app
from credreg.chain.devchain import free_port
from credreg.documents.wrap import WrappedDocument

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cretT0kenNobodyMaySee"
PASSWORD = "hunter2pw"


def dead_url_with_credentials() -> str:
    """A node URL carrying a user, a password and a token, on a loopback port nobody listens on."""
    return f"http://user:{PASSWORD}@127.0.0.1:{free_port()}/?token={TOKEN}"


def assert_no_secret(text: str) -> None:
    assert TOKEN not in text, text
    assert PASSWORD not in text, text


@pytest.fixture(scope="module")
def document(deployed: Deployed) -> WrappedDocument:
    return deployed.batch(1).documents[0]


@pytest.fixture
def cli(deployed: Deployed, tmp_path: Path) -> Cli:
    deployed.manifest.save(tmp_path / "data" / "deployment.json")
    return Cli(
        tmp_path,
        {
            "CREDREG_DATA_DIR": str(tmp_path / "data"),
            "CREDREG_RPC_URL": deployed.url,
            "CREDREG_PROJECT_ROOT": str(ROOT),
        },
    )


# --- no credentials in any output -------------------------------------------------------------------


def test_credentials_in_the_rpc_url_never_reach_api_answers_or_logs(
    deployed: Deployed,
    document: WrappedDocument,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = service_settings(tmp_path / "service", deployed, rpc_url=dead_url_with_credentials())
    caplog.set_level(logging.INFO)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as client:
        credential = client.get("/v1/credentials/0x" + "ab" * 32)
        ready = client.get("/readyz")
        report = client.post("/v1/verify", json=document)
        registry = client.get("/registry")

    body = assert_problem(credential, 503, "chain-unavailable")
    assert "did not answer" in body["detail"]
    assert ready.status_code == 503
    assert ready.json()["chain_reachable"] is False
    assert report.status_code == 200
    assert report.json()["code"] == "chain-unreachable"
    assert "127.0.0.1" in body["detail"]  # the node is still named, only its credentials are masked
    for response in (credential, ready, report, registry):
        assert_no_secret(response.text)
    assert caplog.records
    assert_no_secret("\n".join(caplog.text.splitlines()))


def test_credentials_in_the_rpc_url_never_reach_the_cli(cli: Cli, document: WrappedDocument) -> None:
    path = cli.workdir / "certificate.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    cli.env["CREDREG_RPC_URL"] = dead_url_with_credentials()

    verified = cli.fails(2, "verify", str(path), "--json")
    status = cli("chain", "status")
    flagged = cli.fails(2, "--rpc-url", dead_url_with_credentials(), "verify", str(path))

    assert "did not answer" in verified.text
    assert status.code != 0
    for ran in (verified, status, flagged):
        assert "127.0.0.1" in ran.text
        assert_no_secret(ran.text)


# --- a lone UTF-16 surrogate -------------------------------------------------------------------------

LONE_SURROGATE = '"\\ud800 lone"'  # JSON text for a string holding an unpaired high surrogate


def _with_lone_surrogate(document: WrappedDocument) -> str:
    text = json.dumps(document)
    name = json.dumps(document["data"]["$template"]["name"])
    assert name in text
    return text.replace(name, LONE_SURROGATE, 1)


def test_a_lone_surrogate_in_a_field_is_a_4xx_problem_not_a_500(
    deployed: Deployed, document: WrappedDocument, tmp_path: Path
) -> None:
    settings = service_settings(tmp_path / "service", deployed)
    body = _with_lone_surrogate(document)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as client:
        one = client.post("/v1/verify", content=body, headers={"content-type": "application/json"})
        listed = client.post("/v1/verify", content=f"[{body}]", headers={"content-type": "application/json"})

    for response in (one, listed):
        assert 400 <= response.status_code < 500, response.text
        problem = assert_problem(response, response.status_code, "validation")
        assert "surrogate" in problem["detail"]


def test_a_lone_surrogate_in_a_file_is_a_clear_cli_error(cli: Cli, document: WrappedDocument) -> None:
    path = cli.workdir / "certificate.json"
    path.write_text(_with_lone_surrogate(document), encoding="utf-8")

    ran = cli.fails(2, "verify", str(path), "--json")

    assert "Traceback" not in ran.text
    assert "surrogate" in ran.text


# --- clear errors, not tracebacks ---------------------------------------------------------------------


class _WebPage(http.server.BaseHTTPRequestHandler):
    """Answers every POST with a web page, as a site or a misconfigured proxy would."""

    def do_POST(self) -> None:
        body = b"<html><body>not a node</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Files(http.server.SimpleHTTPRequestHandler):
    """Python's file server: GET works, POST is "501 Unsupported method"."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[_WebPage, _Files], ids=["web-page", "file-server"])
def not_a_node(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an HTTP server on loopback that is not a JSON-RPC node."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _assert_clear(ran_text: str, *phrases: str) -> None:
    assert "Traceback" not in ran_text, ran_text
    for phrase in phrases:
        assert phrase in ran_text, ran_text


def test_an_rpc_url_that_is_not_a_node_is_a_clear_error(
    cli: Cli, not_a_node: str, document: WrappedDocument
) -> None:
    path = cli.workdir / "certificate.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    verified = cli.fails(2, "--rpc-url", not_a_node, "verify", str(path))
    deployed = cli.fails(2, "--rpc-url", not_a_node, "deploy", "--dev-account", "0", "--force")

    for ran in (verified, deployed):
        _assert_clear(ran.text, "is not a JSON-RPC node", not_a_node)


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1:8545", "127.0.0.1:8545", "http://"])
def test_an_rpc_url_that_is_not_a_url_is_a_clear_error(cli: Cli, url: str) -> None:
    ran = cli.fails(2, "--rpc-url", url, "deploy", "--dev-account", "0", "--force")
    from_env = Cli(cli.workdir, {**cli.env, "CREDREG_RPC_URL": url}).fails(2, "chain", "status")

    for each in (ran, from_env):
        _assert_clear(each.text, "is not an http:// or https:// URL")


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        "null",
        '"text"',
        '{"version": 3}',
        '{"version": 3, "crypto": {}}',
        '{"version": 1, "Crypto": {}}',
        "MANIFEST",
        "DIRECTORY",
    ],
)
def test_a_keystore_option_that_is_not_a_keystore_is_a_clear_error(
    cli: Cli, deployed: Deployed, content: str
) -> None:
    path = cli.workdir / "not-a-keystore.json"
    if content == "DIRECTORY":
        path.mkdir()
    elif content == "MANIFEST":
        deployed.manifest.save(path)
    else:
        path.write_text(content, encoding="utf-8")
    cli.env["CREDREG_KEYSTORE_PASSWORD"] = "irrelevant-for-a-non-keystore"

    ran = cli.fails(2, "deploy", "--keystore", str(path), "--force")

    _assert_clear(ran.text, "not-a-keystore.json")
    assert "keystore" in ran.text


def test_unusable_settings_are_a_clear_error(cli: Cli) -> None:
    cli.env["CREDREG_NODE_PROFILE"] = "parity"
    profile = cli.fails(2, "chain", "status")
    cli.env["CREDREG_NODE_PROFILE"] = "besu"
    cli.env["CREDREG_RPC_MAX_BATCH"] = "10"
    batch = cli.fails(2, "chain", "status")

    _assert_clear(profile.text, "CREDREG_NODE_PROFILE", "'anvil', 'besu' or 'goquorum'")
    _assert_clear(batch.text, "credreg sends up to 500", "--rpc-http-max-batch-size")
