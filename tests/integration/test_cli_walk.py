"""The same walk as test_end_to_end.py, through the `credreg` command on a real anvil chain.

Commands run in this process through `credreg.cli.main(argv)`, which returns exactly the exit code the
console script exits with; the exit codes of `credreg verify` are also checked on the installed console
script itself. Keys: the governor, the agency admin and a second agency use anvil test accounts
(`--dev-account`); the agency's signer key is an encrypted keystore whose password comes from the
environment.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from lifecycle_support import ACCOUNTS, ADMIN, DAY, OTHER_ADMIN, OTHER_SIGNER, SIGNER, Cli
from web3 import Web3

from credreg.chain.devchain import ephemeral_chain
from credreg.chain.keystore import PASSWORD_ENV
from credreg.chain.transactions import TxSender
from credreg.cli import app, main
from credreg.registry import scope_id_of
from credreg.verify import STEPS

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = secrets.token_urlsafe(16)  # made up per run: no password lives in the repository
HEX_ROOT = re.compile(r"0x[0-9a-f]{64}")


def iso(seconds: int) -> str:
    """A moment as the command line takes it: ISO 8601 with an offset."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


@dataclass
class Walk:
    cli: Cli
    w3: Web3
    scope_id: str
    signer_key: str
    batch: list[Path]
    single: Path

    def chain_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    """The governor sets up a scope and an agency, the agency issues a batch and a single certificate."""
    workdir = tmp_path_factory.mktemp("cli")
    with ephemeral_chain() as chain:
        cli = Cli(
            workdir,
            {
                "CREDREG_DATA_DIR": str(workdir / "data"),
                "CREDREG_RPC_URL": chain.url,
                "CREDREG_PROJECT_ROOT": str(ROOT),
                PASSWORD_ENV: PASSWORD,
            },
        )
        w3 = Web3(Web3.HTTPProvider(chain.url))
        since = iso(int(w3.eth.get_block("latest")["timestamp"]) - DAY)

        assert "registry 0x" in cli.ok("deploy", "--dev-account", "0").text
        assert "chain 31337 answers" in cli.ok("chain", "status").text
        cli.ok(
            "scope", "define", "4-04-05-06", "3", "Blockchain engineering technician", "--dev-account", "0"
        )
        scope_id = cli.ok("scope", "id", "4-04-05-06", "3").out.strip()
        assert scope_id == scope_id_of("4-04-05-06", 3)
        assert [s["scope_id"] for s in cli.json("scope", "list")] == [scope_id]
        registered = cli.ok(
            "agency", "register", "Beijing Digital Skills Centre", "BJ-0001",
            "--admin", ADMIN.address, "--dev-account", "0",
        )  # fmt: skip
        assert "agency 1 registered" in registered.text
        cli.ok("agency", "accredit", "1", scope_id, "--from", since, "--dev-account", "0")

        created = cli.ok("keys", "new", "signer.json")
        signer_key = re.findall(r"0x[0-9a-fA-F]{40}", created.out)[0]
        assert cli.ok("keys", "address", "signer.json").out.strip() == signer_key
        assert PASSWORD not in (workdir / "signer.json").read_text()
        # The new key pays for its own transactions, so the agency funds it first.
        TxSender(w3, ACCOUNTS[9]).send({"to": signer_key, "value": Web3.to_wei(1, "ether")})
        cli.ok("signer", "add", "1", signer_key, "--from", since, "--dev-account", "1")
        cli.ok("signer", "add", "1", SIGNER.address, "--from", since, "--dev-account", "1")
        assert cli.json("signer", "show", signer_key)["agency_id"] == 1

        cli.ok("sample-results", "results.csv", "--count", "40", "--prefix", "BJ")
        cli.ok("sample-results", "single.csv", "--count", "1", "--prefix", "SOLO", "--seed", "7")
        issued = cli.ok("issue", "--yes", "results.csv", "--out", "certs", "--keystore", "signer.json")
        assert "issued 40 certificate(s) under root 0x" in issued.text
        again = cli.ok("issue", "--yes", "results.csv", "--out", "certs", "--keystore", "signer.json")
        assert "already issued" in again.text
        assert HEX_ROOT.findall(again.text)[0] == HEX_ROOT.findall(issued.text)[0]
        cli.ok("issue", "--yes", "single.csv", "--out", "single", "--dev-account", "2")

        batch = sorted((workdir / "certs").glob("BJ*.json"))
        assert len(batch) == 40
        (single,) = sorted((workdir / "single").glob("SOLO*.json"))
        yield Walk(cli, w3, scope_id, signer_key, batch, single)


def test_a_holder_discloses_and_an_employer_verifies(walk: Walk) -> None:
    cli, original = walk.cli, walk.batch[0]
    id_number = json.loads(original.read_text())["data"]["recipient"]["idNumber"].split(":", 2)[2]
    assert "recipient.idNumber" in cli.ok("disclose", str(original), "--list").text

    cli.ok("disclose", str(original), "--hide", "recipient.idNumber", "--out", "shared.json")

    shared = walk.cli.workdir / "shared.json"
    assert id_number not in shared.read_text()
    refused = cli.fails(2, "disclose", str(original), "--hide", "recipient.idNumber", "--out", "shared.json")
    assert "already exists; refusing to overwrite" in refused.text
    checked = cli.ok("verify", "shared.json", str(walk.batch[1]), str(walk.single))
    assert checked.text.count("VALID ") == 3
    assert "hidden by the holder: 身份证号 (recipient.idNumber)" in checked.text


def test_revocation_and_suspension_say_which_and_reinstatement_restores(walk: Walk) -> None:
    cli = walk.cli
    revoked, suspended, untouched = (str(p) for p in walk.batch[5:8])
    cli.ok("revoke", revoked, "--reason", "3", "--dev-account", "2")
    cli.ok("suspend", suspended, "--reason", "7", "--keystore", "signer.json")  # any key of the agency

    reports = cli.json("verify", revoked, suspended, untouched, code=1)

    assert [r["file"] for r in reports] == [revoked, suspended, untouched]
    assert [(r["verdict"], r["code"]) for r in reports] == [
        ("invalid", "revoked"),
        ("invalid", "suspended"),
        ("valid", "valid"),
    ]
    for report in reports:
        assert [s["name"] for s in report["steps"]] == [name for name, _ in STEPS]
        assert all(set(s) == {"name", "title", "status", "reason", "times"} for s in report["steps"])
        assert all(s["reason"].count(" UTC") == len(s["times"]) for s in report["steps"])
        assert report["agency"]["name"] == "Beijing Digital Skills Centre"
        assert report["scope"]["scope_id"] == walk.scope_id
    for report in reports[:2]:
        failing = [s["name"] for s in report["steps"] if s["status"] != "valid"]
        assert failing == ["not-revoked"]
    human = cli.fails(1, "verify", suspended)
    assert "INVALID" in human.text
    assert "this document is suspended" in human.text

    cli.ok("reinstate", suspended, "--dev-account", "2")
    assert cli.json("verify", suspended)[0]["code"] == "valid"
    final = cli.fails(2, "reinstate", revoked, "--dev-account", "2")
    assert "CredentialRegistryInvalidTransition" in final.text


def test_the_governor_revokes_an_agency_with_a_cutoff(walk: Walk) -> None:
    cli = walk.cli
    since = iso(walk.chain_time() - DAY)
    registered = cli.ok(
        "agency", "register", "Shanghai Skills Centre", "SH-0002",
        "--admin", OTHER_ADMIN.address, "--dev-account", "0",
    )  # fmt: skip
    assert "agency 2 registered" in registered.text
    cli.ok("agency", "accredit", "2", walk.scope_id, "--from", since, "--dev-account", "0")
    cli.ok("signer", "add", "2", OTHER_SIGNER.address, "--from", since, "--dev-account", "4")
    cli.ok("sample-results", "early.csv", "--count", "3", "--prefix", "SHA")
    cli.ok("sample-results", "late.csv", "--count", "3", "--prefix", "SHB")
    cli.ok("issue", "--yes", "early.csv", "--out", "early", "--dev-account", "5")
    (summary,) = (cli.workdir / "early").glob("batch-*.json")
    early_at = json.loads(summary.read_text())["issued_at"]
    walk.w3.provider.make_request("evm_setNextBlockTimestamp", [early_at + 100])  # type: ignore[arg-type]
    cli.ok("issue", "--yes", "late.csv", "--out", "late", "--dev-account", "5")

    cli.ok("agency", "revoke", "2", "--cutoff", iso(early_at + 50), "--reason", "9", "--dev-account", "0")

    files = sorted(str(p) for p in (cli.workdir / "early").glob("SHA*.json")) + sorted(
        str(p) for p in (cli.workdir / "late").glob("SHB*.json")
    )
    reports = cli.json("verify", *files, code=1)
    assert [r["code"] for r in reports] == ["valid"] * 3 + ["agency-revoked"] * 3
    for report in reports[3:]:
        assert next(s for s in report["steps"] if s["name"] == "agency-standing")["status"] == "invalid"
    shown = cli.json("agency", "show", "2")
    assert (shown["agency"]["state"], shown["agency"]["cutoff"]) == ("revoked", early_at + 50)
    assert [a["state"] for a in cli.json("agency", "list")] == ["active", "revoked"]
    refused = cli.fails(2, "issue", "--yes", "late.csv", "--out", "later", "--dev-account", "5")
    assert "is revoked: it cannot issue" in refused.text
    assert not (cli.workdir / "later").exists()


def test_the_console_script_exits_0_valid_1_invalid_2_error(walk: Walk) -> None:
    cli = walk.cli
    valid, revoked = str(walk.batch[20]), str(walk.batch[21])
    cli.ok("revoke", revoked, "--dev-account", "2")
    (cli.workdir / "broken.json").write_text(
        '{"version": "https://schema.openattestation.com/2.0/schema.json",'
    )

    runs = {
        "valid": cli.spawn("verify", valid),
        "invalid": cli.spawn("verify", revoked),
        "error": cli.spawn("verify", "--json", "broken.json"),
    }
    done = {name: (p.wait(timeout=120), *p.communicate()) for name, p in runs.items()}

    assert done["valid"][0] == 0, done["valid"]
    assert "VALID" in done["valid"][1]
    assert done["invalid"][0] == 1, done["invalid"]
    assert "The credential was revoked." in " ".join(done["invalid"][1].split())
    assert done["error"][0] == 2, done["error"]
    (report,) = json.loads(done["error"][1])
    assert (report["verdict"], report["code"]) == ("error", "malformed")
    assert "not valid JSON" in report["steps"][0]["reason"]


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (command path, command) below `group`, sub-groups included."""
    for name, command in group.commands.items():
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def test_every_command_says_what_it_does_with_an_example() -> None:
    paths = [(), *(path for path, _ in _commands(typer.main.get_command(app)))]
    assert len(paths) > 25
    for path in paths:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main([*path, "--help"])
        assert code == 0, path
        assert "Example:" in out.getvalue(), f"`credreg {' '.join(path)} --help` shows no example"


def test_no_command_takes_a_password_on_the_command_line() -> None:
    for path, command in _commands(typer.main.get_command(app)):
        names = [n.lower() for p in command.params for n in (*p.opts, p.name or "")]
        assert not [n for n in names if "password" in n or "secret" in n], path
