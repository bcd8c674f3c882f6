"""`credreg verify` of a large batch on several cores.

The checks of a document are Python work that holds the interpreter's lock, so one process verifies on one
core. From `SPLIT_FROM` documents, with `jobs` above 1, the batch is cut into `jobs` parts: forked children
verify every part but the first while this process verifies the first, all pinned to the block this process
reads before it forks, so the batch's verdicts still describe one block. Each child hands its reports back
pickled through a pipe.

If a child fails in any way (it exits without a whole answer, or is killed), this process verifies that
part itself: the reports are the same, only later.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from credreg.chain.rpc import HttpRpc
from credreg.errors import ChainError
from credreg.machine import usable_cores

if TYPE_CHECKING:
    from credreg.registry import BlockHead, Registry
    from credreg.verify import VerificationReport

# Below this many documents a fork and the reports' trip through the pipe (about 25 µs a report) win little.
SPLIT_FROM = 2_000
MAX_JOBS = 8


def default_jobs() -> int:
    """Two processes when this process may run on two cores or more (the ledger node, if local, and the
    rest of the machine keep the others), else one."""
    return 2 if hasattr(os, "fork") and usable_cores() >= 2 else 1


def verify_batch(
    registry: Registry,
    documents: list[bytes],
    progress: Callable[[int], None] | None = None,
    *,
    jobs: int | None = None,
) -> list[VerificationReport]:
    """`verify_documents(registry, documents)`, on `jobs` processes (default: `default_jobs()`) when the
    batch has `SPLIT_FROM` documents or more. `progress` counts this process's part, then the whole batch
    once every child's is in."""
    from credreg.verify import verify_documents

    jobs = default_jobs() if jobs is None else max(1, min(jobs, MAX_JOBS))
    rpc = registry.rpc
    if jobs == 1 or len(documents) < SPLIT_FROM or not hasattr(os, "fork") or not isinstance(rpc, HttpRpc):
        return verify_documents(registry, documents, progress=progress)
    try:
        head = registry.latest_head()
    except (ChainError, ConnectionError):  # one process then says, for each document, what the node did
        return verify_documents(registry, documents, progress=progress)
    size = -(-len(documents) // jobs)
    parts = [documents[start : start + size] for start in range(0, len(documents), size)]
    # For parts[1:]: (pid, the read end of its pipe), or None where no child could be started.
    children: list[tuple[int, int] | None] = []
    try:
        for part in parts[1:]:
            children.append(_fork(registry, rpc, part, head))
        reports = verify_documents(registry, parts[0], progress=progress, at=head)
        for part in parts[1:]:
            child = children.pop(0)
            theirs = None if child is None else _answer(*child, len(part))  # the child reaped, come what may
            reports += theirs if theirs is not None else verify_documents(registry, part, at=head)
    finally:
        for child in children:  # only if this process failed or was interrupted
            if child is not None:
                os.close(child[1])
                with contextlib.suppress(OSError):
                    os.kill(child[0], signal.SIGKILL)
                    os.waitpid(child[0], 0)
    if progress is not None:
        progress(len(documents))
    return reports


def _fork(registry: Registry, rpc: HttpRpc, part: list[bytes], head: BlockHead) -> tuple[int, int] | None:
    """A child verifying `part` at `head`: its pid and the pipe its pickled reports come through; None if
    the system would not start one (too many processes, no memory)."""
    from credreg.verify import verify_documents

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
            data = pickle.dumps(verify_documents(registry, part, at=head), pickle.HIGHEST_PROTOCOL)
            with open(answer, "wb", closefd=False) as out:
                out.write(data)
            code = 0
        except BaseException:  # noqa: S110 (the parent verifies this part itself)
            pass
        finally:
            os._exit(code)
    os.close(answer)
    return pid, reply


def _answer(pid: int, reply: int, count: int) -> list[VerificationReport] | None:
    """The child's reports, once it has exited 0 with all `count` of them; None otherwise."""
    try:
        with open(reply, "rb", closefd=False) as fh:
            data = fh.read()
    finally:
        os.close(reply)
        _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        reports: list[VerificationReport] = pickle.loads(data)  # noqa: S301 (this process's own child)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
    return reports if len(reports) == count else None


__all__ = ["MAX_JOBS", "SPLIT_FROM", "default_jobs", "verify_batch"]
