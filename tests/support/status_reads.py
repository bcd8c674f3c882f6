"""Status reads two ways at one block: through the status reader's creation calls and one `credentialStatus` call
a query, as the node's own hex answers, so that tests can show the two agree byte for byte."""

from __future__ import annotations

from collections.abc import Sequence

from credreg.registry import Registry
from credreg.registry.reads import STATUS_BATCH, StatusQuery


def reader_answers(registry: Registry, queries: Sequence[StatusQuery], block: int) -> list[str]:
    """Each query's answer sliced out of the reader calls' replies (each reader call in a request of its own)."""
    answers: list[str] = []
    for chunk in registry._reader_chunks(queries):
        (reply,) = registry._batch([registry._reader_call(chunk, block)], "status reader call")
        sliced = registry._reader_answers(len(chunk), reply)
        assert isinstance(sliced, list), f"the node did not answer the status reader: {sliced}"
        answers += sliced
    return answers


def single_answers(registry: Registry, queries: Sequence[StatusQuery], block: int) -> list[str]:
    """Each query's answer to a `credentialStatus` call of its own."""
    answers: list[str] = []
    for start in range(0, len(queries), STATUS_BATCH):
        calls = [registry._status_call(q, block) for q in queries[start : start + STATUS_BATCH]]
        answers += [
            registry._result("credentialStatus", r) for r in registry._batch(calls, "credentialStatus")
        ]
    return answers


def assert_reader_reads_as_single_calls(
    registry: Registry, queries: Sequence[StatusQuery], block: int
) -> None:
    """The reader's answer to every query is the bytes one `credentialStatus` call answers at `block`."""
    reader, single = reader_answers(registry, queries, block), single_answers(registry, queries, block)
    assert len(reader) == len(single) == len(queries)
    for query, mine, theirs in zip(queries, reader, single, strict=True):
        assert mine == theirs.lower(), f"agency {query[0]}, root {query[1]}, leaf {query[2]}"
