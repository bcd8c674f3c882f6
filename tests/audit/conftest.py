"""Fixtures of the audit tests: one real ledger history shared by all of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_ledger import History, build_history

from credreg.chain.devchain import ephemeral_chain


@pytest.fixture(scope="session")
def history() -> Iterator[History]:
    """One deployment with a full history, shared by every audit test; they only read it."""
    with ephemeral_chain() as chain:
        yield build_history(chain)
