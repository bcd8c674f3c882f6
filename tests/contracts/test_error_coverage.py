"""Every custom error the contracts can raise is raised, and decoded by name, by a test that ran.

`Harness.reverted` notes each error it decodes from a failed transaction (registry_harness.RAISED_ERRORS); this
module's conftest hook runs the check below after every other test, and it compares that set with the errors of
the CredentialRegistry and AgencyDocumentStore ABIs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_harness import APE_ONLY_MODULE, DESELECTED, RAISED_ERRORS

from credreg.chain.artifacts import load_artifact

HERE = Path(__file__).parent

# Errors that OpenZeppelin's Clones and Create2 declare, that reach the registry's ABI through the clone
# deployment in registerAgency, and that no input can trigger there.
UNREACHABLE = {
    # Clones checks the immutable arguments against 24,531 bytes; the registry passes 4 (the agency id).
    "CloneArgumentsTooLong": "the clone's arguments are always the 4-byte agency id",
    # Create2.deploy refuses empty init code; the clone's init code is never empty.
    "Create2EmptyBytecode": "the clone's init code is never empty",
    # Create2.deploy checks the value sent along; the registry always sends 0.
    "InsufficientBalance": "the clone is created with value 0",
}


def _abi_errors() -> set[str]:
    return {
        entry["name"]
        for contract in ("CredentialRegistry", "AgencyDocumentStore")
        for entry in load_artifact(contract).abi
        if entry["type"] == "error"
    }


def _drives_the_registry(item: pytest.Item) -> bool:
    return bool({"reg", "deployed"} & set(getattr(item, "fixturenames", ())))


def _whole_suite_selected(session: pytest.Session) -> bool:
    """Whether this session runs every contract test that drives the registry (a subset proves nothing)."""
    deselected = session.config.stash.get(DESELECTED, [])
    if any(item.path.parent == HERE and _drives_the_registry(item) for item in deselected):
        return False
    if any("::" in arg for arg in session.config.invocation_params.args):
        return False
    selected = {item.path.name for item in session.items if item.path.parent == HERE}
    return selected >= {path.name for path in HERE.glob("test_*.py")} - {APE_ONLY_MODULE}


def test_the_unreachable_list_names_only_library_errors_of_the_abi() -> None:
    errors = _abi_errors()
    assert len(errors) > 40
    assert set(UNREACHABLE) <= errors
    assert not any(name.startswith(("CredentialRegistry", "AccreditationRegistry")) for name in UNREACHABLE)


def test_every_custom_error_in_the_abi_is_raised_and_decoded_by_an_executed_test(
    request: pytest.FixtureRequest,
) -> None:
    if not _whole_suite_selected(request.session):
        pytest.skip("error coverage is measured only when the whole of tests/contracts runs")
    never_raised = sorted(_abi_errors() - set(UNREACHABLE) - RAISED_ERRORS)
    assert never_raised == [], f"no test made the contracts revert with {never_raised}"
