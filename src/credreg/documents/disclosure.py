"""Selective disclosure: a holder hides fields and the document still verifies.

Hiding works as OpenAttestation's ``obfuscate``: each hidden leaf's field hash moves into
``privacy.obfuscatedData`` and the leaf leaves ``data``; the target hash, which sorts field hashes and
obfuscated hashes together, is unchanged. The hidden value cannot be recovered: all that remains is
``keccak256({"path": "<random salt>:<type>:<value>"})`` and the 122-bit random salt went with the value.

Two cases where OpenAttestation's own ``obfuscate`` produces a document that no longer verifies are
handled here so that it does:

- hiding every field of an object leaves an empty ``{}``, which its verifier then hashes as a new field;
  here the emptied object is removed too (and so on upwards);
- hiding an array element leaves a hole that JSON turns into ``null``; here hiding trailing elements
  shortens the array and hiding an element before a visible one is refused, since every later index would
  change.

Fields are named by their dotted path (``recipient.idNumber``, or ``recipient`` for all of it).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, cast

from credreg.documents.canonical import field_hash, flatten
from credreg.documents.layout import PROTECTED_FIELDS
from credreg.documents.wrap import Privacy, WrappedDocument, verify_signature
from credreg.errors import DisclosureError, DocumentError

__all__ = ["disclose"]

_HOLE: Any = object()


def disclose(document: WrappedDocument, fields: Iterable[str]) -> WrappedDocument:
    """A copy of `document` with `fields` hidden; `document` itself is untouched.

    Raises `DisclosureError` naming a field that is not visible in the document, that verification needs
    (`credreg.documents.PROTECTED_FIELDS`) or whose removal would shift other array elements, and
    `DocumentError` if the document does not verify to begin with.
    """
    requested = list(dict.fromkeys(fields))
    if not requested:
        raise DisclosureError("(none)", "name at least one field to hide")
    for field in requested:
        _check_allowed(field)
    if not verify_signature(document):
        raise DocumentError("the document does not verify; refusing to derive a disclosed copy from it")
    # A field inside another requested field is hidden with it.
    chosen = [f for f in requested if not any(f.startswith(other + ".") for other in requested)]

    data = copy.deepcopy(document["data"])
    touched: set[int] = set()
    hashes: list[str] = []
    for field in chosen:
        parent, key = _locate(data, field)
        value = parent[key]
        if isinstance(value, dict | list) and value:
            hashes.extend(field_hash(path, leaf) for path, leaf in flatten(value, field).items())
        else:
            hashes.append(field_hash(field, value))
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = _HOLE
        touched.add(id(parent))
    _settle(data, "", touched)

    # Like OpenAttestation, keep whatever else the document carries (other privacy or top-level keys).
    disclosed = cast(
        WrappedDocument, {key: copy.deepcopy(value) for key, value in document.items() if key != "data"}
    )
    privacy = cast(dict[str, Any], disclosed.get("privacy", {}))
    disclosed["data"] = data
    disclosed["privacy"] = cast(
        Privacy, {**privacy, "obfuscatedData": [*privacy.get("obfuscatedData", []), *hashes]}
    )
    return disclosed


def _check_allowed(field: str) -> None:
    if not isinstance(field, str) or not field or any(not part for part in field.split(".")):
        raise DisclosureError(repr(field), "a field is a dotted path such as 'recipient.idNumber'")
    for protected in PROTECTED_FIELDS:
        if field == protected or field.startswith(protected + ".") or protected.startswith(field + "."):
            raise DisclosureError(field, f"{protected!r} is needed to verify the document and stays visible")


def _locate(data: dict[str, Any], field: str) -> tuple[Any, Any]:
    node: Any = data
    parts = field.split(".")
    for depth, part in enumerate(parts):
        key: Any = part
        if isinstance(node, list):
            key = int(part) if part.isdigit() and part == str(int(part)) else None
            found = key is not None and key < len(node) and node[key] is not _HOLE
        else:
            found = isinstance(node, dict) and part in node
        if not found:
            raise DisclosureError(field, "no such visible field (already hidden, or never there)")
        if depth == len(parts) - 1:
            return node, key
        node = node[key]
    raise AssertionError("unreachable")  # pragma: no cover


def _settle(node: Any, path: str, touched: set[int]) -> None:
    """Drop containers emptied by hiding and close array holes, children first."""
    if isinstance(node, dict):
        for key in list(node):
            child = node[key]
            if isinstance(child, dict | list):
                _settle(child, f"{path}.{key}" if path else key, touched)
                if not child and id(child) in touched:
                    del node[key]
                    touched.add(id(node))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            if isinstance(child, dict | list):
                _settle(child, f"{path}.{index}", touched)
                if not child and id(child) in touched:
                    node[index] = _HOLE
        while node and node[-1] is _HOLE:
            node.pop()
            touched.add(id(node))
        if any(child is _HOLE for child in node):
            first = next(i for i, child in enumerate(node) if child is _HOLE)
            raise DisclosureError(
                f"{path}.{first}",
                "hiding an array element before a visible one would renumber the rest; "
                "hide the whole array, trailing elements, or fields inside the element",
            )
