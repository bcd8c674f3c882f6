"""credreg beside its peers, measured in one run on one chain: gas, issuance, verification, audit replay.

    python scripts/bench               (or: make bench)       the full run, a few minutes on 2 cores
    python scripts/bench --quick       (BENCH_ARGS=--quick)   the smallest configuration (the smoke test)
    python scripts/bench gas           (or: make gas)         the gas table alone, with its targets
    python scripts/bench wrap | audit | audit-scale          one stage of issuance / the audit, alone
    python scripts/bench upload [--quick]                    a national batch's leaves uploaded to the service

Starts its own anvil on a free loopback port, deploys credreg and, from their npm packages (`bench.peers`),
OpenAttestation's DocumentStore (3.0 and v4) and the Ethereum Attestation Service, then measures:

- gas per credential: one credential, a batch of 100 and of 10,000 (credreg and DocumentStore record one
  root; DocumentStore 3.0 `bulkIssue` and EAS `multiAttest` record 100 entries), and revoking one credential;
- issuing a results file end to end with credreg (read, build, salt, hash, merkle, sign, submit, confirm,
  write every document), beside OpenAttestation's own `wrapDocuments` wrapping and writing the very same
  data objects (bench/oa_wrap.js), at three sizes;
- exporting the issued batch as W3C VCs 2.0 (`eddsa-rdfc-2022`, one file each), beside OpenAttestation's
  wrapping and writing of the same batch;
- verification: documents per second through `verify_documents` (one batch), beside the floor (parsing the
  same files and hashing what they hash, alone), through `credreg verify` over the batch's files (a fresh
  process reading them, beside the library's rate), and through `POST /v1/verify` of a `credreg serve`
  process, with a time-bounded load generator on loopback (median and p99 latency);
- the command line's start-up: `credreg --help` and `credreg verify one.json` (its ledger read included)
  in fresh processes, beside `python -c pass`;
- the audit: events per second replaying a ledger of at least 100,000 credentials from genesis (then status
  changes that grow the ledger but not the state), in fresh processes, and their peak memory: how much the
  state costs, and whether memory grows with the number of events.

Timed figures are medians of `--runs` repetitions; gas is deterministic and measured once. Everything is
printed as one table, with each peer's figure and the ratio credreg ÷ peer, and the targets as met or
missed, followed by where the time goes; the same goes to `bench-results/bench-<time>.json` with the
machine, the versions and the commit. `--profile DIR` also profiles the code behind each missed target.
Only loopback is ever contacted; every loop is bounded in count and in time.

One module per part, each measuring through credreg's own code: `core` (configuration, rows, the chain and
the deployment), `gas` (the one gas measurement, also `make gas`), `issuance`, `verify` (library, floor and
command line), `api`, `audit` and `audit_scale`, `peers` (the peers' npm artifacts), `report` (the table,
the machine and versions) and `run` (the whole run and its options).
"""
