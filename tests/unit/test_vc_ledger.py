"""Status lists from the registry's events: batches whose leaves are not known take no positions."""

from __future__ import annotations

from typing import Any

from vc_factories import batch_documents

from credreg.vc.ledger import lists_from_events


def _issued(documents: list[Any], agency: int, block: int) -> tuple[str, int, int, dict[str, Any]]:
    return (
        "CredentialIssued",
        block,
        0,
        {"agencyId": agency, "root": "0x" + documents[0]["signature"]["merkleRoot"]},
    )


def _status(
    documents: list[Any], target: str, action: int, block: int
) -> tuple[str, int, int, dict[str, Any]]:
    root = "0x" + documents[0]["signature"]["merkleRoot"]
    return (
        "CredentialStatusChanged",
        block,
        0,
        {"agencyId": 7, "root": root, "target": target, "action": action},
    )


def _leaves(documents: list[Any]) -> list[str]:
    return ["0x" + d["signature"]["targetHash"] for d in documents]


def test_a_batch_without_known_leaves_takes_no_positions_and_its_events_change_no_bit() -> None:
    known, unknown, later = (
        batch_documents(size=3),
        batch_documents(size=4, start=10),
        batch_documents(size=2, start=20),
    )
    given = {("0x" + d[0]["signature"]["merkleRoot"]): _leaves(d) for d in (known, later)}
    unknown_root = "0x" + unknown[0]["signature"]["merkleRoot"]
    events = [
        _issued(known, 7, 1),
        _issued(unknown, 7, 2),
        _issued(later, 7, 3),
        _status(unknown, unknown_root, 1, 4),
        _status(later, "0x" + later[0]["signature"]["targetHash"], 1, 5),
        ("AgencyRegistered", 0, 0, {}),
    ]
    built = lists_from_events(events, lambda agency, root: given.get(root))
    assert built.unknown == ((7, unknown_root),)
    assert built.first_position(7, "0x" + later[0]["signature"]["merkleRoot"]) == 3
    assert built.first_position(7, unknown_root) is None
    revoked = {p for p in range(8) if built.lists.is_set("revocation", p)}
    position = built.lists.positions["0x" + later[0]["signature"]["targetHash"]]
    assert revoked == {position}
    assert 3 <= position < 5


def test_the_same_events_in_any_order_give_the_same_lists() -> None:
    first, second = batch_documents(size=3), batch_documents(size=2, start=5)
    given = {("0x" + d[0]["signature"]["merkleRoot"]): _leaves(d) for d in (first, second)}
    events = [
        _issued(first, 7, 1),
        _issued(second, 7, 2),
        _status(second, "0x" + second[0]["signature"]["merkleRoot"], 2, 3),
    ]
    forward = lists_from_events(events, lambda a, r: given.get(r))
    backward = lists_from_events(list(reversed(events)), lambda a, r: given.get(r))
    assert forward.lists.bits == backward.lists.bits
    assert {p for p in range(5) if forward.lists.is_set("suspension", p)} == {3, 4}
