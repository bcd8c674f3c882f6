"""`credreg verify` of a large batch on two cores.

The checks of a document are Python work that holds the interpreter's lock, so one process verifies on one
core. From `SPLIT_FROM` documents, on a machine with two cores or more, a forked child verifies the second
half of the batch while this process verifies the first: both pinned to the block this process reads first,
so the batch's verdicts still describe one block. The child hands its reports back pickled through a pipe.

If the child fails in any way (it exits without a whole answer, or is killed), this process verifies the
second half itself: the reports are the same, only later.
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

if TYPE_CHECKING:
    from credreg.registry import Registry
    from credreg.verify import VerificationReport

# Below this many documents a fork and the reports' trip through the pipe (about 25 µs a report) win little.
SPLIT_FROM = 2_000


def verify_batch(
    registry: Registry, documents: list[bytes], progress: Callable[[int], None] | None = None
) -> list[VerificationReport]:
    """`verify_documents(registry, documents)`: on two processes when the batch is large and two cores are
    free to run them. `progress` counts this process's half, then the whole batch when the child's is in."""
    from credreg.verify import verify_documents

    rpc = registry.rpc
    if len(documents) < SPLIT_FROM or not _two_cores() or not isinstance(rpc, HttpRpc):
        return verify_documents(registry, documents, progress=progress)
    try:
        head = registry.latest_head()
    except (ChainError, ConnectionError):  # one process then says, for each document, what the node did
        return verify_documents(registry, documents, progress=progress)
    half = len(documents) // 2
    first, second = documents[:half], documents[half:]
    reply, answer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its half, then nothing of the parent's (no clean-up, no buffered output)
        code = 1
        try:
            os.close(reply)
            rpc.close()  # its copies of the parent's kept-alive connections: the parent's to use
            data = pickle.dumps(verify_documents(registry, second, at=head), pickle.HIGHEST_PROTOCOL)
            with open(answer, "wb", closefd=False) as out:
                out.write(data)
            code = 0
        except BaseException:  # noqa: S110 (the parent verifies this half itself)
            pass
        finally:
            os._exit(code)
    os.close(answer)
    status = -1
    try:
        with open(reply, "rb") as fh:
            mine = verify_documents(registry, first, progress=progress, at=head)
            data = fh.read()
        _, status = os.waitpid(pid, 0)
    finally:
        if status == -1:  # this process failed or was interrupted: the child's half is of no use
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    theirs: list[VerificationReport] | None = None
    if status == 0 and data:
        with contextlib.suppress(pickle.UnpicklingError, EOFError, ValueError):
            theirs = pickle.loads(data)  # noqa: S301 (written by this process's own child)
    if theirs is None or len(theirs) != len(second):
        theirs = verify_documents(registry, second, at=head)
    if progress is not None:
        progress(len(documents))
    return mine + theirs


def _two_cores() -> bool:
    if not hasattr(os, "fork"):
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except AttributeError:  # no affinity outside Linux
        return (os.cpu_count() or 1) >= 2


__all__ = ["SPLIT_FROM", "verify_batch"]
