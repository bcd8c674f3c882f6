"""ape and slither compile contracts/ offline through scripts/solc, with the settings the artifacts use."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from eth_account import Account

from credreg.chain.build import COMPILER_SETTINGS, EVM_VERSION, SOLC_VERSION, solc_wrapper
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.manifest import Manifest
from credreg.paths import project_root
from credreg.registry import Registry

VENV_BIN = Path(sys.executable).parent


def ape_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((project_root() / "ape-config.yaml").read_text(encoding="utf-8"))
    return config


def test_ape_config_pins_the_compiler_settings_the_artifacts_are_built_with() -> None:
    solidity = ape_config()["solidity"]

    assert str(solidity["version"]) == SOLC_VERSION
    assert solidity["evm_version"] == EVM_VERSION
    assert solidity["optimize"] is COMPILER_SETTINGS["optimizer"]["enabled"]
    assert solidity["optimization_runs"] == COMPILER_SETTINGS["optimizer"]["runs"]
    assert solidity["via_ir"] is COMPILER_SETTINGS["viaIR"]


@pytest.mark.slow
def test_ape_compiles_the_contracts_offline_with_the_registered_wrapper(tmp_path: Path) -> None:
    root = project_root()
    checkout = tmp_path / "checkout"
    shutil.copytree(root / "contracts", checkout / "contracts")
    shutil.copy2(root / "ape-config.yaml", checkout / "ape-config.yaml")
    shutil.copytree(
        root / "node_modules" / "@openzeppelin" / "contracts",
        checkout / "node_modules" / "@openzeppelin" / "contracts",
    )
    # A fresh home and compiler folder, registered the way `make setup` does it: nothing cached is reused.
    compilers = tmp_path / "solcx"
    compilers.mkdir()
    (compilers / f"solc-v{SOLC_VERSION}").symlink_to(solc_wrapper())
    env = {**os.environ, "HOME": str(tmp_path / "home"), "SOLCX_BINARY_PATH": str(compilers)}

    done = subprocess.run(
        [str(VENV_BIN / "ape"), "compile"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((checkout / ".build" / "__local__.json").read_text(encoding="utf-8"))
    [compiler] = manifest["compilers"]
    assert compiler["version"].startswith(f"{SOLC_VERSION}+commit.")
    assert compiler["settings"]["evmVersion"] == EVM_VERSION
    assert manifest["contractTypes"]["CredentialRegistry"]["deploymentBytecode"]["bytecode"].startswith(
        "0x60"
    )


@pytest.mark.slow
def test_ape_run_deploys_the_registry_with_credreg_deploy(tmp_path: Path) -> None:
    with ephemeral_chain() as chain:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}
        # WEB3_PROVIDER_URI: `ape test` sets it for its own chain; the script's ape must reach this one.
        env |= {"CREDREG_DATA_DIR": str(tmp_path), "WEB3_PROVIDER_URI": chain.url}
        done = subprocess.run(
            [str(VENV_BIN / "ape"), "run", "deploy_registry", "--network", f"ethereum:local:{chain.url}"],
            cwd=project_root(),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

        assert done.returncode == 0, done.stdout + done.stderr
        manifest = Manifest.load(tmp_path / "deployment.json")
        assert manifest.governor == Account.from_key(ANVIL_TEST_KEYS[0]).address
        registry = Registry.connect(chain.url, manifest)  # checks the chain and the code at the address
        assert registry.version() == "2.0.0"


@pytest.mark.slow
def test_slither_analyses_the_contracts_through_the_wrapper() -> None:
    # slither.config.json at the root supplies --solc scripts/solc --solc-standard-json and the remapping.
    done = subprocess.run(
        [str(VENV_BIN / "slither"), "contracts/", "--json", "-"],
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    report = json.loads(done.stdout)
    assert report["success"] is True, report.get("error") or done.stderr
    assert report["error"] is None
