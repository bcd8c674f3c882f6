"""The two text forms of a hash at the edges, kept in `credreg.hashes` beside the one conversion: a
certificate's bytes32 fields take only "0x" hex, and a report shows a document's bare hex with "0x" as
the document wrote it."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from credreg.documents.model import Bytes32Hex
from credreg.hashes import hash32, is_hash32_text, with_0x

DIGITS = "ab" * 16 + "CD" * 16


@pytest.mark.parametrize(
    ("text", "boundary"),
    [
        ("0x" + DIGITS, True),
        ("0x" + DIGITS.lower(), True),
        (DIGITS, False),  # OpenAttestation's bare hex
        ("0X" + DIGITS, False),
        ("0x" + DIGITS + "\n", False),
        ("0x" + DIGITS[:-1], False),
        ("0x" + DIGITS[:-1] + "g", False),
    ],
)
def test_a_certificate_field_takes_only_the_boundary_form(text: str, boundary: bool) -> None:
    assert is_hash32_text(text) is boundary
    adapter = TypeAdapter(Bytes32Hex)
    if boundary:
        assert adapter.validate_python(text) == hash32(text) == text.lower()
    else:
        with pytest.raises(ValidationError, match="expected 0x and 64 hex digits"):
            adapter.validate_python(text)


def test_a_report_shows_the_documents_digits_as_written() -> None:
    assert with_0x(DIGITS) == "0x" + DIGITS
    assert with_0x("0x" + DIGITS) == "0x" + DIGITS
    assert with_0x(DIGITS.lower()) == "0x" + DIGITS.lower()
