"""`credreg verify` of a large batch on several cores.

The checks of a document are Python work that holds the interpreter's lock, so one process verifies on one
core. From `SPLIT_FROM` documents, with `jobs` above 1, the batch is cut into `jobs` parts (`in_parts`):
forked children work every part but the first while this process works the first, all pinned to the block
this process reads before it forks (`pinned_head`), so the batch's verdicts still describe one block. Each
child hands its answer back pickled through a pipe.

A part is either documents already read (`verify_batch`, for an archive's lines) or the names of the files
to read (`credreg verify a/*.json`): then each child reads its own files, and the reading is split too.

If a child fails in any way (it exits without a whole answer, or is killed), this process works that part
itself: the answer is the same, only later.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

from credreg.chain.rpc import HttpRpc
from credreg.errors import ChainError
from credreg.machine import usable_cores

if TYPE_CHECKING:
    from credreg.registry import BlockHead, Registry
    from credreg.verify import VerificationReport

# Below this many documents a fork and the reports' trip through the pipe (about 25 µs a report) win little.
SPLIT_FROM = 2_000
MAX_JOBS = 8

Part = TypeVar("Part")
Answer = TypeVar("Answer")


def default_jobs() -> int:
    """Two processes when this process may run on two cores or more (the ledger node, if local, and the
    rest of the machine keep the others), else one."""
    return 2 if hasattr(os, "fork") and usable_cores() >= 2 else 1


def jobs_for(jobs: int | None) -> int:
    """`--jobs` as given (1 to `MAX_JOBS`), or `default_jobs()`."""
    return default_jobs() if jobs is None else max(1, min(jobs, MAX_JOBS))


def splits(registry: Registry, count: int, jobs: int) -> bool:
    """Whether `count` documents are verified on `jobs` processes: from `SPLIT_FROM`, where processes can
    be forked, and with the plain JSON-RPC transport (one node URL; several stay in one process)."""
    return jobs > 1 and count >= SPLIT_FROM and hasattr(os, "fork") and isinstance(registry.rpc, HttpRpc)


def pinned_head(registry: Registry) -> BlockHead | None:
    """The block every part is verified at; None if the node does not give it (one process then says, for
    each document, what the node did)."""
    try:
        return registry.latest_head()
    except (ChainError, ConnectionError):
        return None


def cut(items: Sequence[Part], jobs: int) -> list[Sequence[Part]]:
    """`items` in `jobs` parts of (nearly) the same size, in order."""
    size = -(-len(items) // jobs)
    return [items[start : start + size] for start in range(0, len(items), size)]


def verify_batch(
    registry: Registry,
    documents: list[bytes],
    progress: Callable[[int], None] | None = None,
    *,
    jobs: int | None = None,
    at: BlockHead | None = None,
) -> list[VerificationReport]:
    """`verify_documents(registry, documents, at=at)`, on `jobs` processes (default: `default_jobs()`) when
    `splits`. `progress` counts this process's part, then the whole batch once every child's is in."""
    from credreg.verify import verify_documents

    jobs = jobs_for(jobs)
    if not splits(registry, len(documents), jobs):
        return verify_documents(registry, documents, progress=progress, at=at)
    head = at or pinned_head(registry)
    if head is None:
        return verify_documents(registry, documents, progress=progress)

    def verify(part: Sequence[bytes], first: bool) -> list[VerificationReport]:
        return verify_documents(registry, part, progress=progress if first else None, at=head)

    reports = [report for part in in_parts(registry, cut(documents, jobs), verify) for report in part]
    if progress is not None:
        progress(len(documents))
    return reports


def in_parts(registry: Registry, parts: Sequence[Part], work: Callable[[Part, bool], Answer]) -> list[Answer]:
    """`work(part, first)` for each part, in order: every part but the first in a forked child, while this
    process works the first (`first` True: the one part whose progress may be shown). A part whose child
    failed is worked here afterwards. `registry`'s connections stay this process's."""
    rpc = registry.rpc
    assert isinstance(rpc, HttpRpc)
    # For parts[1:]: (pid, the read end of its pipe), or None where no child could be started.
    children: list[tuple[int, int] | None] = []
    try:
        for part in parts[1:]:
            children.append(_fork(rpc, functools.partial(work, part, False)))
        answers = [work(parts[0], True)]
        for part in parts[1:]:
            child = children.pop(0)
            theirs = None if child is None else _answer(*child)  # the child reaped, come what may
            answers.append(cast("Answer", theirs[0]) if theirs is not None else work(part, False))
    finally:
        for child in children:  # only if this process failed or was interrupted
            if child is not None:
                os.close(child[1])
                with contextlib.suppress(OSError):
                    os.kill(child[0], signal.SIGKILL)
                    os.waitpid(child[0], 0)
    return answers


def _fork(rpc: HttpRpc, work: Callable[[], object]) -> tuple[int, int] | None:
    """A child doing `work`: its pid and the pipe its pickled answer comes through; None if the system
    would not start one (too many processes, no memory)."""
    try:
        reply, answer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reply)
        os.close(answer)
        return None
    if pid == 0:  # the child: its part, then nothing of the parent's (no clean-up, no buffered output)
        code = 1
        try:
            os.close(reply)
            rpc.close()  # its copies of the parent's kept-alive connections: the parent's to use
            data = pickle.dumps((work(),), pickle.HIGHEST_PROTOCOL)
            with open(answer, "wb", closefd=False) as out:
                out.write(data)
            code = 0
        except BaseException:  # noqa: S110 (the parent works this part itself)
            pass
        finally:
            os._exit(code)
    os.close(answer)
    return pid, reply


def _answer(pid: int, reply: int) -> tuple[object] | None:
    """The child's answer (in a 1-tuple), once it has exited 0 with a whole one; None otherwise."""
    try:
        with open(reply, "rb", closefd=False) as fh:
            data = fh.read()
    finally:
        os.close(reply)
        _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        answer = pickle.loads(data)  # noqa: S301 (this process's own child)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
    return answer if isinstance(answer, tuple) and len(answer) == 1 else None


__all__ = [
    "MAX_JOBS",
    "SPLIT_FROM",
    "cut",
    "default_jobs",
    "in_parts",
    "jobs_for",
    "pinned_head",
    "splits",
    "verify_batch",
]
