"""Where the project's own files are: the repository checkout that holds `contracts/` and `node_modules/`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from credreg.errors import ToolchainError


def project_root() -> Path:
    """The checkout holding `contracts/` and `node_modules/`: $CREDREG_PROJECT_ROOT, the cwd or a parent,
    or the checkout this package was installed from in editable mode."""
    env = os.environ.get("CREDREG_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "contracts").is_dir() and (candidate / "package.json").is_file():
            return candidate
    source_checkout = Path(__file__).resolve().parents[2]
    if (source_checkout / "contracts").is_dir():
        return source_checkout
    raise ToolchainError(
        "cannot find the credreg checkout (a directory with contracts/ and package.json); "
        "run from inside it or set CREDREG_PROJECT_ROOT"
    )


def node_tool(name: str) -> Path:
    """A Node-installed executable from the project's node_modules/.bin, falling back to PATH."""
    try:
        candidate = project_root() / "node_modules" / ".bin" / name
        if candidate.exists():
            return candidate
    except ToolchainError:
        pass
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolchainError(
        f"`{name}` is not installed; run `make run` or `npm ci` in the credreg checkout first"
    )
