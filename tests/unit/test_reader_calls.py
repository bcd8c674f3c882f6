"""A status reader call built from the queries' hex text is byte for byte the codec's, and any value that is
not plainly a 32-byte word leaves it to the codec."""

from __future__ import annotations

import random

import pytest

from credreg.registry.reads import StatusQuery, _reader, _reader_codec, _reader_data

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WORD = "ab" * 32


def _word(rng: random.Random, upper: bool, prefix: str) -> str:
    digits = f"{rng.getrandbits(256):064x}"
    # Documents write leaves and proofs as bare hex; roots are given with "0x".
    with_0x = rng.random() < 0.5 if prefix == "mixed" else prefix == "0x"
    return ("0x" if with_0x else "") + (digits.upper() if upper else digits)


def _ends(queries: list[StatusQuery]) -> list[int]:
    ends, total = [], 0
    for query in queries:
        total += len(query[3])
        ends.append(total)
    return ends


def _codec_data(queries: list[StatusQuery]) -> str:
    return _reader_codec().creation_data(
        _reader().bytecode,
        REGISTRY,
        [q[0] for q in queries],
        [q[1] for q in queries],
        [q[2] for q in queries],
        _ends(queries),
        [w for q in queries for w in q[3]],
    )


@pytest.mark.parametrize("prefix", ["0x", "", "mixed"])
@pytest.mark.parametrize("count", [1, 2, 81])
def test_the_same_call_as_the_codec(count: int, prefix: str) -> None:
    rng = random.Random(count)
    queries: list[StatusQuery] = [
        (
            rng.randrange(1 << 32),
            _word(rng, rng.random() < 0.3, prefix),
            _word(rng, False, prefix),
            [_word(rng, rng.random() < 0.3, prefix) for _ in range(rng.randrange(15))],
        )
        for _ in range(count)
    ]
    assert _reader_data(_reader().bytecode, REGISTRY, queries, _ends(queries)) == _codec_data(queries)


@pytest.mark.parametrize(
    "query",
    [
        (1, "0x" + WORD + ",0x" + WORD, "0x" + WORD, []),  # two words in one string
        (1, "0x" + WORD[:-1], "0x" + WORD, []),  # short
        (1, "0x" + WORD, "0x" + WORD + "0", []),  # long
        (1, "0x" + WORD, "0x" + WORD, ["0x" + WORD[:-2] + "zz"]),  # not hex
        (1, "0x" + WORD, "0x" + WORD, ["0x" + WORD[:-2] + " 1"]),  # white space
        (1, "0x" + WORD, "0x" + WORD, ["0x" + WORD[:-2] + ",1"]),  # a comma
        (1, "0x" + WORD, "0x" + WORD, [WORD + "00"]),  # long, without 0x
        (1, "0x" + WORD, "0x" + WORD, [WORD, WORD[:-1]]),  # short, without 0x
        (1, "0x" + WORD, "0x" + WORD, [WORD + "," + WORD[:-1], ""]),  # lengths that add up, without 0x
        (1, "0x" + WORD, "0x" + WORD, ["0x0x" + WORD]),
        (1, "0x" + WORD, "0x" + WORD, ["0X" + WORD]),
        (1, "0x" + WORD, "0x" + WORD, ["0x" + WORD[:30], WORD[:34] + "0x" + WORD]),  # lengths that add up
        (1, "0x" + WORD, "0x" + WORD, ["0x" + WORD[:-1] + "\u0661"]),  # a non-ASCII digit
        (1, bytes.fromhex(WORD), "0x" + WORD, []),  # bytes
        (-1, "0x" + WORD, "0x" + WORD, []),
        (1 << 32, "0x" + WORD, "0x" + WORD, []),
        (True, "0x" + WORD, "0x" + WORD, []),
    ],
)
def test_anything_irregular_is_left_to_the_codec(query: StatusQuery) -> None:
    assert _reader_data(_reader().bytecode, REGISTRY, [query], _ends([query])) is None
