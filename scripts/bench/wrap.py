"""Time wrapping batches of certificates: salting, field hashing, merkle tree and every proof.

Prints the median (and min/max) of several runs per batch size, for three stages:
  read      read a CSV results file into certificate models
  wrap      wrap_certificates: layout + salt + hash + merkle + proofs (what issuing a batch costs)
  hash      wrap_documents on prepared data: salt + hash + merkle + proofs only

Usage: .venv/bin/python scripts/bench wrap [--runs 5] [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from credreg.documents import (
    AgencyRef,
    IssueContext,
    certificate_to_data,
    read_results,
    wrap_certificates,
    wrap_documents,
)
from credreg.samples import write_sample_results

DOMAIN = "registry.example.org"
CONTEXT = IssueContext(
    agency=AgencyRef(id=1, name="某市职业技能鉴定指导中心"),
    chain_id=31337,
    registry="0x5FbDB2315678afecb367f032d93F642f64180aa3",
)


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args(argv)
    print(f"{'stage':<6} {'batch':>7} {'median s':>9} {'min s':>7} {'max s':>7} {'per cert µs':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = write_sample_results(Path(tmp) / f"results-{size}.csv", size)
            certificates = read_results(path, context=CONTEXT)
            datas = [certificate_to_data(c, identity_location=DOMAIN) for c in certificates]
            stages: dict[str, Callable[[], Any]] = {
                "read": lambda p=path: read_results(p, context=CONTEXT),
                "wrap": lambda c=certificates: wrap_certificates(c, identity_location=DOMAIN),
                "hash": lambda d=datas: wrap_documents(d),
            }
            for stage, fn in stages.items():
                times = timed(fn, args.runs)
                median = statistics.median(times)
                print(
                    f"{stage:<6} {size:>7} {median:>9.3f} {min(times):>7.3f} {max(times):>7.3f} "
                    f"{median / size * 1e6:>12.1f}"
                )
