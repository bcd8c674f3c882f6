"""scripts/solc stands in for a native solc: what py-solc-x, ape-solidity and crytic-compile call must work."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import solcx
from solcx.exceptions import SolcError
from solcx.wrapper import get_solc_version

from credreg.chain.build import EVM_VERSION, SOLC_VERSION, solc_wrapper
from credreg.paths import project_root

WRAPPER = solc_wrapper()
PRAGMA = f"// SPDX-License-Identifier: Apache-2.0\npragma solidity {SOLC_VERSION};\n"

MAIN = (
    PRAGMA + 'import {Lib} from "lib/Lib.sol";\n'
    'import {Remapped} from "@vendor/Remapped.sol";\n'
    "contract Main {\n"
    "    function total() external pure returns (uint256) { return Lib.one() + Remapped.two(); }\n"
    "}\n"
)
LIB = PRAGMA + "library Lib { function one() internal pure returns (uint256) { return 1; } }\n"
REMAPPED = PRAGMA + "library Remapped { function two() internal pure returns (uint256) { return 2; } }\n"
SMALL = (
    PRAGMA + "contract Small { uint256 public stored; function set(uint256 v) external { stored = v; } }\n"
)


def run_solc(
    *args: str, stdin: str = "", cwd: Path | None = None, wrapper: Path = WRAPPER
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(wrapper), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def standard_input(sources: dict[str, Any], remappings: list[str] | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "evmVersion": EVM_VERSION,
        "optimizer": {"enabled": True, "runs": 200},
        "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
    }
    if remappings:
        settings["remappings"] = remappings
    return {"language": "Solidity", "sources": sources, "settings": settings}


def errors_of(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in output.get("errors", []) if e["severity"] == "error"]


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A base path holding the entry contract and a vendored file, and a separate include path."""
    files = {
        "base/contracts/Main.sol": MAIN,
        "base/vendor/Remapped.sol": REMAPPED,
        "include/lib/Lib.sol": LIB,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_version_is_printed_in_the_native_format_that_py_solc_x_parses() -> None:
    done = run_solc("--version")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "solc, the solidity compiler commandline interface"
    version = get_solc_version(WRAPPER, with_commit_hash=True)
    assert version.base_version == SOLC_VERSION
    assert version.local is not None
    assert version.local.startswith("commit.")
    npm_solc = json.loads((project_root() / "node_modules" / "solc" / "package.json").read_text())
    assert npm_solc["version"] == SOLC_VERSION


def test_standard_json_with_content_sources_prints_only_the_compiler_output() -> None:
    payload = standard_input({"Small.sol": {"content": SMALL}})

    done = run_solc("--standard-json", stdin=json.dumps(payload))

    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)  # the whole of stdout, nothing printed before or after the JSON
    assert errors_of(output) == []
    assert len(output["contracts"]["Small.sol"]["Small"]["evm"]["bytecode"]["object"]) > 100


def test_url_sources_resolve_through_base_path_include_path_and_remappings(source_tree: Path) -> None:
    payload = standard_input(
        {"contracts/Main.sol": {"urls": ["contracts/Main.sol"]}}, remappings=["@vendor/=vendor/"]
    )

    done = run_solc(
        "--standard-json",
        "--base-path",
        str(source_tree / "base"),
        "--include-path",
        str(source_tree / "include"),
        stdin=json.dumps(payload),
        cwd=source_tree,  # neither source is reachable from here: only the two paths can find them
    )

    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert errors_of(output) == []
    assert set(output["sources"]) == {"contracts/Main.sol", "lib/Lib.sol", "vendor/Remapped.sol"}
    assert output["contracts"]["contracts/Main.sol"]["Main"]["evm"]["bytecode"]["object"]


@pytest.mark.parametrize(
    "allow_paths",
    [
        pytest.param(["--allow-paths", "{base},{include}"], id="comma-separated"),
        pytest.param(["--allow-paths={base}"], id="equals-form"),
        pytest.param(["--allow-paths", ""], id="empty"),
        pytest.param(["--allow-paths", "/nonexistent,", "--allow-paths", "."], id="repeated-odd"),
    ],
)
def test_allow_paths_is_accepted_in_every_form_the_python_tools_pass(
    source_tree: Path, allow_paths: list[str]
) -> None:
    args = [a.format(base=source_tree / "base", include=source_tree / "include") for a in allow_paths]
    payload = standard_input({"Small.sol": {"content": SMALL}})

    done = run_solc("--standard-json", *args, stdin=json.dumps(payload), cwd=source_tree)

    assert done.returncode == 0, done.stderr
    assert errors_of(json.loads(done.stdout)) == []


def test_crytic_compile_call_pattern_resolves_urls_from_the_working_directory(source_tree: Path) -> None:
    base = source_tree / "base"
    payload = standard_input({"vendor/Remapped.sol": {"urls": ["vendor/Remapped.sol"]}})

    done = run_solc("--standard-json", "--allow-paths", str(base), stdin=json.dumps(payload), cwd=base)

    assert done.returncode == 0, done.stderr
    assert list(json.loads(done.stdout)["sources"]) == ["vendor/Remapped.sol"]


def test_missing_import_is_reported_as_solc_error_json(source_tree: Path) -> None:
    broken = PRAGMA + 'import {Gone} from "lib/Missing.sol";\ncontract Broken {}\n'
    payload = standard_input({"Broken.sol": {"content": broken}})

    done = run_solc(
        "--standard-json",
        "--base-path",
        str(source_tree / "base"),
        stdin=json.dumps(payload),
        cwd=source_tree,
    )

    assert done.returncode == 0, done.stderr
    [error] = errors_of(json.loads(done.stdout))
    assert error["type"] == "ParserError"
    assert "lib/Missing.sol" in error["message"]


def test_input_that_is_not_json_is_refused_with_a_clear_message() -> None:
    done = run_solc("--standard-json", stdin="pragma solidity 0.8.37; contract X {}")

    assert done.returncode != 0
    assert done.stdout == ""
    assert "standard JSON input is not valid JSON" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--bin", "Small.sol"], id="bin"),
        pytest.param(["--combined-json", "abi,bin", "Small.sol"], id="combined-json"),
        pytest.param([], id="no-mode"),
    ],
)
def test_unsupported_modes_are_named_in_the_error(args: list[str]) -> None:
    done = run_solc(*args)

    assert done.returncode != 0
    assert done.stdout == ""
    assert "only --version and --standard-json are supported" in done.stderr


def test_command_line_remappings_are_refused_in_standard_json_mode_as_native_solc_does() -> None:
    done = run_solc("--standard-json", "@vendor/=vendor/", stdin="{}")

    assert done.returncode != 0
    assert "put them under settings.remappings" in done.stderr


def test_a_missing_npm_compiler_package_is_reported_not_thrown(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name in ("solc", "solc.js"):
        shutil.copy2(WRAPPER.parent / name, scripts / name)

    done = run_solc("--version", wrapper=scripts / "solc")

    assert done.returncode != 0
    assert "the npm package solc is not installed" in done.stderr
    assert "npm ci" in done.stderr


def test_py_solc_x_finds_the_wrapper_registered_as_the_pinned_version() -> None:
    registered = solcx.install.get_solcx_install_folder() / f"solc-v{SOLC_VERSION}"

    assert registered.exists(), f"{registered} is missing: `make setup` registers scripts/solc there"
    assert registered.resolve() == WRAPPER.resolve()
    assert solcx.install.get_executable(SOLC_VERSION).resolve() == WRAPPER.resolve()


def test_solcx_compile_standard_works_by_version_and_by_binary(source_tree: Path) -> None:
    base = source_tree / "base"
    payload = standard_input(
        {"vendor/Remapped.sol": {"urls": ["vendor/Remapped.sol"]}, "Small.sol": {"content": SMALL}},
        remappings=["@vendor/=vendor/"],
    )

    by_version = solcx.compile_standard(
        payload, solc_version=SOLC_VERSION, base_path=base, allow_paths=[base]
    )
    by_binary = solcx.compile_standard(payload, solc_binary=WRAPPER, base_path=str(base), allow_paths=".")

    assert by_version["contracts"]["Small.sol"]["Small"]["abi"]
    assert by_binary["contracts"] == by_version["contracts"]


def test_solcx_raises_its_own_error_for_a_failed_compilation() -> None:
    payload = standard_input({"Bad.sol": {"content": PRAGMA + "contract Bad { function }\n"}})

    with pytest.raises(SolcError, match="ParserError"):
        solcx.compile_standard(payload, solc_version=SOLC_VERSION)
