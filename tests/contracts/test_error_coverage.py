"""Every custom error the registry can raise is asserted by name in some contract test."""

from __future__ import annotations

from pathlib import Path

from credreg.chain.artifacts import load_artifact


def test_every_custom_error_of_the_registry_is_asserted_by_a_test() -> None:
    here = Path(__file__).parent
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted(here.glob("test_*.py"))
        if path.name != Path(__file__).name
    )
    errors = sorted({e["name"] for e in load_artifact("CredentialRegistry").abi if e["type"] == "error"})
    assert len(errors) > 30
    untested = [name for name in errors if f'"{name}"' not in sources]
    assert untested == []
