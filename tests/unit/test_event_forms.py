"""One ledger event type: the codec's `LedgerEvent`, and its two other forms, the index row and the API's."""

from __future__ import annotations

import pytest

from credreg.api.models import EventOut
from credreg.chain.codec import LedgerEvent
from credreg.service.db import LedgerEventRow

ROOT = "0x" + "ab" * 32
EVENT = LedgerEvent(
    name="CredentialStatusChanged",
    block_number=12,
    block_hash="0x" + "01" * 32,
    transaction_hash="0x" + "02" * 32,
    transaction_index=3,
    log_index=4,
    args={
        "root": ROOT, "agencyId": 2, "actor": "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", "target": ROOT,
        "action": 1, "reason": 3, "nonce": 1, "since": 1_767_225_600, "byGovernor": False,
    },
    block_time=1_767_225_600,
)  # fmt: skip


def test_a_row_gives_back_the_event_it_was_made_from() -> None:
    row = LedgerEventRow.from_event(EVENT)
    assert (row.agency_id, row.root, row.block_time) == (2, ROOT, EVENT.block_time)
    assert row.to_event() == EVENT


def test_the_wire_form_carries_every_field_of_the_event() -> None:
    out = EventOut.of(EVENT)
    assert (out.type, out.block_number, out.log_index, out.block_time) == (
        "CredentialStatusChanged",
        12,
        4,
        EVENT.block_time,
    )
    assert (out.agency_id, out.root, out.args) == (2, ROOT, EVENT.args)
    assert EventOut.of(LedgerEventRow.from_event(EVENT).to_event()) == out


def test_an_event_without_its_block_time_is_refused() -> None:
    undated = LedgerEvent(
        **{**{f: getattr(EVENT, f) for f in EVENT.__dataclass_fields__}, "block_time": None}
    )
    with pytest.raises(ValueError, match="block"):
        LedgerEventRow.from_event(undated)
    with pytest.raises(ValueError, match="block time"):
        EventOut.of(undated)
