"""What a person types wrong on the command line is refused before anything is sent: exit 2, a message
that names the field and shows the right form, Chinese first. And `--help` fits 80 columns, without
type noise."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from credreg.cli import app, main
from credreg.cli.help import tidy

TYPE_NOISE = re.compile(r"<(bool|int|str|path|float|int range)>|\b(TEXT|INTEGER|BOOLEAN|FLOAT|PATH)\b")


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, with no deployment and no credreg settings from outside."""
    import os

    for name in [n for n in os.environ if n.startswith("CREDREG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CREDREG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, " ".join((out.getvalue() + " " + err.getvalue()).split())


def command_paths() -> Iterator[list[str]]:
    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(tidy(typer.main.get_command(app)), [])


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "credreg")
def test_help_fits_80_columns_and_shows_no_type_noise(path: list[str], nowhere: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*path, "--help"]) == 0
    text = out.getvalue()
    assert "Usage: credreg" in text
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    assert not TYPE_NOISE.search(text), TYPE_NOISE.search(text)


@pytest.mark.parametrize(
    ("args", "field", "right_form"),
    [
        (["agency", "accredit", "1", "4-04-05-06/3", "--from", "20260101"], "--from", "2026-01-01"),
        (["agency", "accredit", "1", "4-04-05-06/3", "--until", "1767225600"], "--until", "2026-01-01"),
        (["agency", "accredit", "1", "4-04-05-06/3", "--from", "2026-02-30"], "--from", "2026-01-01T09:00"),
        (["agency", "revoke", "1", "--cutoff", "01/03/2026"], "--cutoff", "2026-01-01"),
        (["signer", "add", "1", "0x" + "11" * 20, "--from", "tomorrow"], "--from", "2026-01-01"),
        (["signer", "compromised", "0x" + "11" * 20, "--since", "1767225600"], "--since", "2026-01-01"),
        (["audit", "replay", "--at", "20261201"], "--at", "2026-01-01"),
        (["audit", "status", "0x" + "11" * 32, "--at", "1767225600"], "--at", "2026-01-01"),
        (["agency", "accredit", "1", "2-02-1009/2"], "SCOPE", "D-DD-DD-DD"),
        (["agency", "accredit", "1", "2-02-10-099/2"], "SCOPE", "4-04-05-06"),
        (["agency", "accredit", "1", "4-04-05-06/12"], "SCOPE", "from 1 (highest) to 5"),
        (["agency", "withdraw", "1", "4-04-05-06"], "SCOPE", "4-04-05-06/3"),
        (["scope", "define", "2-02-1009", "2", "AI engineer"], "OCCUPATION_CODE", "D-DD-DD-DD"),
        (["scope", "define", "2-02-10-099", "2", "AI engineer"], "OCCUPATION_CODE", "4-04-05-06"),
        (["scope", "define", "2-02-10-09", "12", "AI engineer"], "LEVEL", "from 1 (highest) to 5"),
        (["scope", "id", "2-02-10-09", "0"], "LEVEL", "from 1 (highest) to 5"),
        (["--tz", "Mars/Olympus", "agency", "show", "1"], "--tz", "Asia/Shanghai"),
    ],
)
def test_each_mistake_exits_2_naming_the_field_and_the_right_form(
    args: list[str], field: str, right_form: str, nowhere: Path
) -> None:
    code, text = run(*args)
    assert code == 2, text
    assert field in text
    assert right_form in text
    assert re.search(r"[\u4e00-\u9fff]", text.split(" / ")[0]), "the message starts in Chinese"


def test_an_employer_without_a_deployment_is_told_to_name_a_registry_never_to_deploy(
    nowhere: Path,
) -> None:
    (nowhere / "shared.json").write_text("{}")
    code, text = run("verify", "shared.json")
    assert code == 2
    assert "--registry https://" in text
    assert "trust-list.json" in text
    assert "deploy" not in text.lower()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"chain_id": 31337}, "registry"),
        ({"chain_id": 31337, "registry": "0x1234"}, "registry"),
        ({"chain_id": "one", "registry": "0x" + "ab" * 20}, "chain_id"),
        ({"chain_id": 31337, "registry": "0x" + "ab" * 20}, "rpc_urls"),
    ],
)
def test_a_broken_trust_list_is_refused_naming_the_field(
    content: dict[str, object], named: str, nowhere: Path
) -> None:
    (nowhere / "trust.json").write_text(json.dumps(content))
    (nowhere / "shared.json").write_text("{}")
    code, text = run("verify", "shared.json", "--registry", "trust.json")
    assert code == 2, text
    assert named in text
    assert '"credreg_trust_list": 1' in text or "--rpc-url" in text
    assert "deploy" not in text.lower()


def test_a_registry_service_that_does_not_answer_is_named(nowhere: Path) -> None:
    (nowhere / "shared.json").write_text("{}")
    code, text = run("verify", "shared.json", "--registry", "http://127.0.0.1:9/")
    assert code == 2
    assert "http://127.0.0.1:9/v1/registry" in text
    assert "--registry" in text


def test_reason_codes_are_listed_in_words(nowhere: Path) -> None:
    code, text = run("reasons")
    assert code == 0
    assert "考核舞弊" in text
    assert "cheating in the assessment" in text
