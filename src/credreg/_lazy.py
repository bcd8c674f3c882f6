"""Names a package re-exports, imported on first use (PEP 562), so importing the package costs nothing.

`credreg --help` loads every command module; each of those names what it needs from `credreg.documents`,
`credreg.registry` or `credreg.audit`, and eager re-exports there would pull in web3 and pydantic with them
(about a second of start-up, measured with `python -X importtime`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, table: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `table` maps each exported name to (module, name in it)."""

    def __getattr__(name: str) -> Any:
        try:
            module, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attribute)
        setattr(importlib.import_module(package), name, value)  # later look-ups skip this function
        return value

    return __getattr__


__all__ = ["lazy_exports"]
