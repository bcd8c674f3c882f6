"""`credreg --help` starts at once: it loads the command tree and nothing of the chain, web or database
stacks, which each command imports when it runs (issue 15: over a second of start-up was imports).

Nothing here is timed: what is checked is which modules a fresh interpreter holds after `--help`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each of these alone costs a tenth of a second or more to import on the project's machine.
HEAVY = ("web3", "fastapi", "sqlalchemy", "uvicorn", "eth_account", "pydantic_settings", "httpx")

_PROBE = """
import contextlib, io, json, sys
from credreg.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(ARGS)
print(json.dumps({"code": code, "help": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _fresh(args: list[str], cwd: Path | None = None) -> dict[str, object]:
    """`credreg ARGS` in a new interpreter: its exit code, what it printed, and every module it loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}
    env["COLUMNS"] = "100"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.replace("ARGS", repr(args))],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_loads_no_heavy_module(args: list[str]) -> None:
    answer = _fresh(args)
    assert answer["code"] == 0
    modules = answer["modules"]
    assert isinstance(modules, list)
    loaded = sorted(name for name in HEAVY if any(m.split(".")[0] == name for m in modules))
    assert loaded == [], f"`credreg {' '.join(args)}` imported {loaded}"


def test_help_still_lists_every_command() -> None:
    from credreg.cli import app

    answer = _fresh(["--help"])
    text = str(answer["help"])
    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert len(names) > 20
    missing = [name for name in names if name and name not in text]
    assert missing == []


# What reading and checking a certificate must do without: web3.py and eth-account are for writing
# (signing, gas, nonces); eth_abi and eth_utils take a tenth of a second each and a verifier needs neither.
NOT_FOR_VERIFYING = ("web3", "eth_account", "eth_abi", "eth_utils", "requests")


def test_verify_of_a_certificate_loads_no_ethereum_library(tmp_path: Path) -> None:
    from documents_factories import make_certificate

    from credreg.documents.layout import wrap_certificates
    from credreg.documents.wrap import dump_document

    (document,) = wrap_certificates([make_certificate()], identity_location="registry.example.org")
    (tmp_path / "one.json").write_text(dump_document(document), encoding="utf-8")
    answer = _fresh(["verify", "--offline", "one.json"], cwd=tmp_path)
    # Intact, but no ledger consulted: an error verdict (exit 2) after every local check ran
    assert answer["code"] == 2
    assert "merkle-proof" in str(answer["help"])
    assert "integrity" in str(answer["help"])
    modules = answer["modules"]
    assert isinstance(modules, list)
    loaded = sorted(name for name in NOT_FOR_VERIFYING if any(m.split(".")[0] == name for m in modules))
    assert loaded == [], f"`credreg verify --offline` imported {loaded}"


def test_verify_loads_no_web_or_database_stack(tmp_path: Path) -> None:
    (tmp_path / "shared.json").write_text("{}", encoding="utf-8")
    answer = _fresh(["verify", "--offline", "shared.json"], cwd=tmp_path)
    # "not a credreg document" is an error verdict (exit 2), printed for the file: the command ran through
    assert answer["code"] == 2
    assert "shared.json" in str(answer["help"])
    modules = answer["modules"]
    assert isinstance(modules, list)
    loaded = sorted(
        name
        for name in ("fastapi", "sqlalchemy", "uvicorn", "httpx")
        if any(m.split(".")[0] == name for m in modules)
    )
    assert loaded == []


@pytest.mark.parametrize(
    ("argv", "only"),
    [
        (["verify", "one.json"], "verify"),
        (["--tz", "UTC", "--rpc-url=http://127.0.0.1:8545", "verify", "--json", "a.json"], "verify"),
        (["--data-dir", "verify", "chain", "start"], "chain"),  # "verify" here is the data directory
        (["agency", "register", "--help"], "agency"),
        (["--help"], None),
        (["--version"], None),
        (["--unknown", "verify"], None),
        (["verfy", "one.json"], None),
        ([], None),
    ],
)
def test_a_start_builds_only_the_command_it_runs(argv: list[str], only: str | None) -> None:
    from credreg.cli import _only_named, app

    shell = _only_named(app, argv)
    if only is None:
        assert shell is app
    else:
        names = [c.name for c in shell.registered_commands] + [g.name for g in shell.registered_groups]
        assert names == [only]
        assert shell.registered_callback is app.registered_callback
        assert len(app.registered_commands) > 10  # the whole shell is left as it was


@pytest.mark.parametrize("argv", [["verify", "--help"], ["agency", "register", "--help"], ["verify"]])
def test_a_command_built_alone_says_what_it_says_in_the_whole_shell(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import credreg.cli as cli

    monkeypatch.setenv("COLUMNS", "100")
    alone = cli.main(argv), capsys.readouterr()
    monkeypatch.setattr(cli, "_only_named", lambda shell, _argv: shell)
    whole = cli.main(argv), capsys.readouterr()
    assert alone == whole
    assert "verify" in alone[1].out + alone[1].err or "register" in alone[1].out


_ENDING = """
import atexit, sys, threading, time
from credreg.cli import exit_with
atexit.register(lambda: print("exit handler ran", flush=False))
if sys.argv[1] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
sys.stdout.write("x" * 200_000 + "\\n")  # left in the buffer
exit_with(3)
"""


@pytest.mark.parametrize("case", ["alone", "thread"])
def test_the_command_ends_without_the_interpreters_teardown_yet_loses_nothing(case: str) -> None:
    """`exit_with` (the console script's end) skips freeing every object one by one, yet the exit code,
    buffered output and exit handlers are all there, and a thread still working is waited for."""
    done = subprocess.run(
        [sys.executable, "-c", _ENDING, case], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "x" * 200_000
    assert "exit handler ran" in lines
    assert ("thread finished" in lines) is (case == "thread")
