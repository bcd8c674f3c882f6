"""`scripts/check-toolchain` names what is missing instead of failing later with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check-toolchain"


def _fake_bin(tmp_path: Path, node_version: str | None, with_npm: bool = True) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    if node_version is not None:
        node = bin_dir / "node"
        node.write_text(f"#!/bin/sh\necho {node_version.split('.')[0]}\n")
        node.chmod(0o755)
    if with_npm:
        npm = bin_dir / "npm"
        npm.write_text("#!/bin/sh\necho 11.0.0\n")
        npm.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", str(CHECK)], env=env, capture_output=True, text=True, check=False)


def test_passes_on_this_machine() -> None:
    done = subprocess.run(["/bin/sh", str(CHECK)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_names_missing_node(tmp_path: Path) -> None:
    env = _fake_bin(tmp_path, None)
    env["PATH"] = str(tmp_path / "bin")  # no system node either
    done = _run(env)
    assert done.returncode == 1
    assert "needs Node.js 20 or newer" in done.stderr
    assert "'node' was not found" in done.stderr


def test_names_a_node_too_old(tmp_path: Path) -> None:
    done = _run(_fake_bin(tmp_path, "18.19.0"))
    assert done.returncode == 1
    assert "needs Node.js 20 or newer" in done.stderr


def test_names_missing_npm(tmp_path: Path) -> None:
    env = _fake_bin(tmp_path, "20.11.0", with_npm=False)
    done = _run(env)
    if Path("/usr/bin/npm").exists():  # the system's npm would be found on /usr/bin
        env["PATH"] = str(tmp_path / "bin")
        done = _run(env)
    assert done.returncode == 1
    assert "needs npm" in done.stderr
