"""Bad input gets a clear message naming what is wrong, and nothing is left half done.

A batch is either recorded whole with all its documents written, or not at all and can be retried: a crash
at any point of issuance is finished by running the same command again, which re-uses the journaled root
(never a second one), and a third run says the batch is already issued.
"""

from __future__ import annotations

import copy
import errno
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lifecycle_support import (
    SIGNER,
    Cli,
    World,
    documents_in,
    load,
    sample_results,
    set_up_registry,
    write_rows,
)
from web3 import Web3

from credreg import issuance
from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import DevChain, ephemeral_chain, free_port
from credreg.chain.keystore import PASSWORD_ENV, create_keystore
from credreg.errors import ChainUnreachable, ResultsFileError, WrongChain
from credreg.issuance import JOURNAL_DIR
from credreg.registry import Registry, Relayer
from credreg.samples import sample_rows
from credreg.verify import verify_documents

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Setup:
    world: World
    cli: Cli
    workdir: Path
    document: Path  # an issued certificate file

    def head(self) -> int:
        return self.world.registry.head()

    def results(self, name: str, count: int = 6, *, seed: int) -> Path:
        """A fresh results file in the working directory, distinct from every other by its seed."""
        return sample_results(self.workdir / name, count, prefix=f"T{seed}", seed=seed)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("bad-input")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        world.issue(sample_results(workdir / "issued.csv", 4, prefix="OK"), workdir / "issued")
        cli = Cli(
            workdir,
            {
                "CREDREG_DATA_DIR": str(workdir / "data"),
                "CREDREG_RPC_URL": chain.url,
                "CREDREG_PROJECT_ROOT": str(ROOT),
            },
        )
        yield Setup(world, cli, workdir, documents_in(workdir / "issued", "OK")[0])


# --- verifying -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"version": "https://schema.openattestation.com/2.0/schema.json",', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"%PDF-1.7 \xff\xfe", "not valid JSON"),
        (b"[1, 2, 3]", "a wrapped document is a JSON object"),
        (b'{"version": NaN}', "NaN is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
    ids=["truncated", "empty", "binary", "array", "nan", "deeply-nested"],
)
def test_a_malformed_file_is_an_error_saying_so(setup: Setup, content: bytes, reason: str) -> None:
    path = setup.workdir / "malformed.json"
    path.write_bytes(content)

    (report,) = setup.cli.json("verify", str(path), code=2)
    human = setup.cli.fails(2, "verify", str(path))

    assert (report["verdict"], report["code"]) == ("error", "malformed")
    assert report["steps"][0]["name"] == "format"
    assert report["steps"][0]["status"] == "invalid"
    assert reason in report["steps"][0]["reason"]
    assert {s["status"] for s in report["steps"][1:]} == {"skipped"}
    assert "The file is not a credreg document." in human.text


def test_a_missing_file_is_an_error_naming_it(setup: Setup) -> None:
    (report,) = setup.cli.json("verify", "no-such-file.json", code=2)
    assert report["code"] == "unreadable"
    assert "cannot read no-such-file.json: No such file or directory" in report["summary"]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _retype(path: str, kind: str, value: str) -> Callable[[dict[str, Any]], None]:
    """Keep the salt of the field at `path` but give it another JavaScript type."""

    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node[key]
        node[last] = f"{node[last].split(':', 1)[0]}:{kind}:{value}"

    return change


@pytest.mark.parametrize(
    ("change", "exit_code", "code", "named"),
    [
        (_set("signature.targetHash", 12345), 2, "malformed", "signature.targetHash"),
        (_set("signature.proof", "0xabc"), 2, "malformed", "signature.proof"),
        (_set("signature.proof", [None]), 2, "malformed", "signature.proof.0"),
        (_set("data", ["not", "an", "object"]), 2, "malformed", "'data'"),
        (_retype("data.credreg.level", "string", "3"), 2, "malformed", "credreg.level"),
        (_retype("data.credreg.chainId", "boolean", "true"), 2, "malformed", "credreg.chainId"),
        (_set("data.issuers", {"name": "x"}), 2, "malformed", "issuers"),
        # Wrong types inside fields that are not checked for shape break the target hash instead.
        (_set("data.id", 5), 1, "tampered", "do not add up"),
        (_set("data.recipient.name", ["a", "list"]), 1, "tampered", "do not add up"),
        (_set("data.recipient", None), 1, "tampered", "do not add up"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_wrong_types_in_a_document_are_named(
    setup: Setup, change: Callable[[dict[str, Any]], None], exit_code: int, code: str, named: str
) -> None:
    document = copy.deepcopy(load(setup.document))
    change(document)
    path = setup.workdir / "wrong-types.json"
    path.write_text(json.dumps(document))

    (report,) = setup.cli.json("verify", str(path), code=exit_code)

    assert report["code"] == code
    failed = [s for s in report["steps"] if s["status"] == "invalid"]
    assert len(failed) == 1
    assert named in failed[0]["reason"]


def test_an_unknown_registry_is_named(setup: Setup, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "deployment.json"
    ran = setup.cli.fails(2, "--manifest", str(missing), "verify", str(setup.document))
    assert "--registry https://" in ran.text
    assert "deploy" not in ran.text.lower()

    empty_address = "0x000000000000000000000000000000000000dEaD"
    manifest = json.loads((setup.workdir / "data" / "deployment.json").read_text())
    manifest["registry"]["address"] = empty_address
    (tmp_path / "stale.json").write_text(json.dumps(manifest))
    ran = setup.cli.fails(2, "--manifest", str(tmp_path / "stale.json"), "verify", str(setup.document))
    assert f"there is no contract at {empty_address} on chain 31337" in ran.text

    (tmp_path / "broken.json").write_text(json.dumps({**manifest, "chain_id": "thirty-one"}))
    ran = setup.cli.fails(2, "--manifest", str(tmp_path / "broken.json"), "verify", str(setup.document))
    assert "is invalid at chain_id" in ran.text


def test_a_document_of_another_registry_is_an_error_not_a_forgery(setup: Setup, tmp_path: Path) -> None:
    other = deploy_registry(connect(setup.world.url), SIGNER)
    other.save(tmp_path / "other.json")

    (report,) = setup.cli.json(
        "--manifest", str(tmp_path / "other.json"), "verify", str(setup.document), code=2
    )

    assert (report["verdict"], report["code"]) == ("error", "wrong-registry")
    registry_step = next(s for s in report["steps"] if s["name"] == "registry")
    assert setup.world.registry.address in registry_step["reason"]
    assert other.registry_address in registry_step["reason"]


def test_a_manifest_for_another_chain_is_refused(setup: Setup) -> None:
    with DevChain(port=free_port(), persist=False, chain_id=1337) as other_chain:
        expected = f"{other_chain.url} serves chain 1337, but the deployment manifest is for chain 31337"
        with pytest.raises(WrongChain, match=expected):
            Registry.connect(other_chain.url, setup.world.registry.manifest)
        ran = setup.cli.fails(2, "--rpc-url", other_chain.url, "verify", str(setup.document))
        assert expected in ran.text
        ran = setup.cli.fails(
            2,
            "--rpc-url",
            other_chain.url,
            "issue",
            "--yes",
            "issued.csv",
            "--out",
            "elsewhere",
            "--dev-account",
            "2",
        )
        assert expected in ran.text
        assert not (setup.workdir / "elsewhere").exists()

        # A request signed for chain 31337's registry is refused by a registry elsewhere, before sending.
        other = Registry.connect(other_chain.url, deploy_registry(connect(other_chain.url), SIGNER))
        signed = setup.world.registry.sign_issue(
            SIGNER, setup.world.registry.issue_request("0x" + "11" * 32, setup.world.scope_id)
        )
        with pytest.raises(WrongChain, match="the request was signed for registry"):
            Relayer(other, SIGNER).issue(signed)


def test_an_unreachable_chain_is_its_own_answer(setup: Setup) -> None:
    dead = Registry(Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}")), setup.world.registry.manifest)

    (report,) = verify_documents(dead, [setup.document.read_bytes()])

    assert (report.verdict.value, report.code) == ("error", "chain-unreachable")
    assert "did not answer" in report.step("issued").reason
    assert report.step("integrity").status.value == "valid"  # the file itself was checked


# --- keys -------------------------------------------------------------------------------------------


def test_a_keystore_with_the_wrong_password_is_refused_before_anything_happens(setup: Setup) -> None:
    right, wrong = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    create_keystore(setup.workdir / "agency.json", right)
    (setup.workdir / "damaged.json").write_text("{not a keystore")
    results = setup.results("keys.csv", seed=41)
    head = setup.head()

    setup.cli.env[PASSWORD_ENV] = wrong
    try:
        ran = setup.cli.fails(
            2, "issue", "--yes", str(results), "--out", "keyed", "--keystore", "agency.json"
        )
        damaged = setup.cli.fails(
            2, "issue", "--yes", str(results), "--out", "keyed", "--keystore", "damaged.json"
        )
    finally:
        del setup.cli.env[PASSWORD_ENV]

    assert "cannot decrypt keystore agency.json: wrong password or damaged file" in ran.text
    assert wrong not in ran.text
    assert "keystore damaged.json is not valid JSON" in damaged.text
    assert not (setup.workdir / "keyed").exists()
    assert setup.head() == head


# --- results files ----------------------------------------------------------------------------------


def _break(column: str, value: str) -> Callable[[list[dict[str, str]]], None]:
    def change(rows: list[dict[str, str]]) -> None:
        rows[3][column] = value  # the fourth row: line 5 of the file, after the header

    return change


@pytest.mark.parametrize(
    ("breakage", "column", "message"),
    [
        (_break("level", "three"), "level", "expected a whole number"),
        (_break("holder_id_number", "110105198001011234"), "holder_id_number", "check digit"),
        (_break("issue_date", "2026-13-01"), "issue_date", "month must be in 1..12"),
        # A rule across two columns names the row only.
        (_break("valid_until", "2020-01-01"), None, "valid_until 2020-01-01 is before issue_date"),
        (_break("certificate_number", ""), "certificate_number", "required"),
        (_break("kind", "diploma"), "kind", "expected one of"),
        # 2301 for 2031: a typing error the ledger would keep for centuries.
        (_break("valid_until", "2301-06-30"), "valid_until", "2301-06-30 is more than 100 years ahead"),
    ],
    ids=["level", "id-number", "date", "valid-until", "missing-number", "kind", "valid-until-too-far"],
)
def test_a_results_file_with_a_broken_row_issues_nothing(
    setup: Setup, breakage: Callable[[list[dict[str, str]]], None], column: str | None, message: str
) -> None:
    rows = sample_rows(6, prefix="BROKEN", seed=99)
    breakage(rows)
    write_rows(setup.workdir / "broken.csv", rows)
    head = setup.head()

    ran = setup.cli.fails(2, "issue", "--yes", "broken.csv", "--out", "broken", "--dev-account", "2")

    assert "broken.csv: 共 1 处问题，未读取任何行" in ran.text
    assert "1 problem(s), nothing was read" in ran.text
    assert (f"row 5, field {column!r}: " if column else "row 5: ") in ran.text
    assert message in ran.text
    assert setup.head() == head, "nothing may reach the ledger"
    assert not (setup.workdir / "broken").exists(), "no journal, no documents"


def test_every_broken_row_is_listed_at_once(setup: Setup) -> None:
    rows = sample_rows(30, prefix="MANY", seed=98)
    for row in rows[10:25]:
        row["level"] = "x"
    with pytest.raises(ResultsFileError) as error:
        setup.world.issue(write_rows(setup.workdir / "many.csv", rows), setup.workdir / "many")
    assert error.value.total == 15
    assert (error.value.row, error.value.field) == (12, "level")
    assert not (setup.workdir / "many").exists()


def test_one_file_is_one_session(setup: Setup) -> None:
    rows = sample_rows(4, prefix="MIX", seed=97)
    rows[2]["occupation_code"], rows[2]["occupation_title"] = "2-02-10-09", "AI engineering technician"
    head = setup.head()
    ran = setup.cli.fails(
        2,
        "issue",
        "--yes",
        str(write_rows(setup.workdir / "mixed.csv", rows)),
        "--out",
        "mixed",
        "--dev-account",
        "2",
    )
    assert "every row needs the same occupation code, level and valid-until date" in ran.text
    assert setup.head() == head
    assert not (setup.workdir / "mixed").exists()


# --- crashes during issuance ------------------------------------------------------------------------


def _journal(out: Path) -> list[Path]:
    return sorted((out / JOURNAL_DIR).glob("*.json"))


def _journal_root(out: Path) -> str:
    (state,) = _journal(out)
    root: str = json.loads(state.read_text(encoding="utf-8"))["root"]
    return root


def _finish_and_repeat(setup: Setup, results: Path, out: Path, root: str) -> None:
    """Run the same command twice more: the first finishes the batch, the second has nothing to do."""
    resumed = setup.cli.ok("issue", "--yes", str(results), "--out", out.name, "--dev-account", "2")
    assert f"resumed and issued 6 certificate(s) under root {root}" in resumed.text
    assert len(documents_in(out, "T")) == 6
    assert {load(p)["signature"]["merkleRoot"] for p in documents_in(out, "T")} == {root[2:]}
    assert len(list(out.glob("batch-*.json"))) == 1
    assert _journal(out) == []
    assert len(setup.world.issued_events(root)) == 1

    again = setup.cli.ok("issue", "--yes", str(results), "--out", out.name, "--dev-account", "2")
    assert f"already issued: this file is batch {root}" in again.text
    assert len(setup.world.issued_events(root)) == 1


def test_a_crash_after_sending_is_finished_by_the_same_command(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, out = setup.results("sent.csv", seed=51), setup.workdir / "sent"

    def send_then_lose_the_reply(self: Relayer, signed: Any) -> Any:
        self.sender.submit(self.issue_tx(signed))
        raise ChainUnreachable("the connection dropped before the receipt arrived")

    with monkeypatch.context() as patch:
        patch.setattr(Relayer, "issue", send_then_lose_the_reply)
        crashed = setup.cli.fails(2, "issue", "--yes", str(results), "--out", out.name, "--dev-account", "2")

    assert "the connection dropped before the receipt arrived" in crashed.text
    root = _journal_root(out)
    assert setup.world.registry.record(setup.world.agency_id, root).issued, "the transaction went through"
    assert documents_in(out, "T") == []
    assert list(out.glob("batch-*.json")) == []
    _finish_and_repeat(setup, results, out, root)


def test_a_failure_before_sending_is_retried_with_the_journaled_root(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, out = setup.results("unsent.csv", seed=52), setup.workdir / "unsent"

    def endpoint_down(self: Relayer, signed: Any) -> Any:
        raise ChainUnreachable("the chain at http://127.0.0.1:1 did not answer (eth_sendRawTransaction)")

    head = setup.head()
    with monkeypatch.context() as patch:
        patch.setattr(Relayer, "issue", endpoint_down)
        setup.cli.fails(2, "issue", "--yes", str(results), "--out", out.name, "--dev-account", "2")

    root = _journal_root(out)
    assert setup.head() == head
    assert not setup.world.registry.record(setup.world.agency_id, root).issued
    _finish_and_repeat(setup, results, out, root)


def test_a_failure_while_writing_documents_is_finished_by_the_same_command(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, out = setup.results("disk.csv", seed=53), setup.workdir / "disk"
    real_write_all = issuance._write_all
    written: list[int] = []

    def disk_fills_up(fd: int, data: bytes) -> None:
        if len(written) >= 3:
            real_write_all(fd, data[: len(data) // 2])  # the fourth file is cut short
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(fd)
        real_write_all(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(issuance, "_write_all", disk_fills_up)
        crashed = setup.cli.fails(2, "issue", "--yes", str(results), "--out", out.name, "--dev-account", "2")

    assert "No space left on device" in crashed.text
    assert "run the same command again" in crashed.text
    root = _journal_root(out)
    assert setup.world.registry.record(setup.world.agency_id, root).issued
    assert list(out.glob("batch-*.json")) == [], "no summary: the batch is not complete"
    partial = documents_in(out, "T")
    assert len(partial) == 4
    with pytest.raises(json.JSONDecodeError):
        load(partial[-1])
    _finish_and_repeat(setup, results, out, root)  # every file is rewritten whole from the journal


def test_an_unusable_output_directory_is_refused_before_anything_is_sent(setup: Setup) -> None:
    (setup.workdir / "a-file").write_text("not a directory")
    head = setup.head()
    ran = setup.cli.fails(
        2, "issue", "--yes", str(setup.results("nodir.csv", seed=54)), "--out", "a-file", "--dev-account", "2"
    )
    assert "a-file" in ran.text
    assert "nothing was issued" in ran.text
    assert setup.head() == head


def test_the_same_results_file_issued_into_another_directory_is_refused(setup: Setup) -> None:
    results, first = setup.results("twice.csv", seed=57), setup.workdir / "first-out"
    done = setup.cli.ok("issue", "--yes", str(results), "--out", first.name, "--dev-account", "2")
    root = next(word for word in done.text.split() if word.startswith("0x") and len(word) == 66)
    assert setup.world.registry.record(setup.world.agency_id, root).issued

    refused = setup.cli.fails(2, "issue", "--yes", str(results), "--out", "second-out", "--dev-account", "2")

    assert "was already issued, or started, into" in refused.text
    assert str(first.resolve()) in refused.text
    assert not (setup.workdir / "second-out").exists()
    assert len(setup.world.issued_events(root)) == 1
