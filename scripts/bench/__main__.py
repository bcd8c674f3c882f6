"""`python scripts/bench [gas | wrap | audit | audit-scale | upload] [options]`: the benchmarks' entry point.

With no command: the whole benchmark (`bench.run`, `make bench`). `gas`: the gas table and its targets
(`bench.gas`, `make gas`). `wrap`: the stages of wrapping a batch (`bench.wrap`). `audit`: the audit replay
on a ledger generated in bulk on anvil (`bench.audit`). `audit-scale`: the replay of a generated ledger of a
million events (`bench.audit_scale`). `upload`: 1,000,000 leaves uploaded in parts to `credreg serve`, its
rate and peak memory (`bench.api`). `--help` after a command lists its options.
"""

import sys
from pathlib import Path

if __package__ in (
    None,
    "",
):  # run as `python scripts/bench`: the package's folder's parent is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import main

sys.exit(main(sys.argv[1:]))
