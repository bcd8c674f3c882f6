"""`POST /v1/verify` of a `credreg serve` process on loopback, under a load generator bounded in count and time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.core import (
    API_SERVER_WORKERS,
    MAX_API_REQUESTS,
    TOO_SMALL,
    Config,
    Deadline,
    Row,
    Setup,
    check,
    median,
    percentile,
    process_cpu_seconds,
)
from credreg.chain.devchain import free_port
from credreg.verify import verify_documents


@contextlib.contextmanager
def api_server(
    s: Setup, work: Path, deadline: Deadline, *, workers: int = API_SERVER_WORKERS, name: str = "api"
) -> Iterator[str]:
    """`credreg serve` in its own process on a free loopback port, against the bench chain."""
    with serve_process(s, work, deadline, workers=workers, name=name) as (url, _):
        yield url


@contextlib.contextmanager
def serve_process(
    s: Setup, work: Path, deadline: Deadline, *, workers: int = API_SERVER_WORKERS, name: str = "api"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`api_server`, with the process (with one worker, the process that answers)."""
    data_dir = work / name
    data_dir.mkdir(parents=True, exist_ok=True)
    s.manifest.save(data_dir / "deployment.json")
    port = free_port()
    env = {
        **os.environ,
        "CREDREG_DATA_DIR": str(data_dir),
        "CREDREG_RPC_URL": s.chain.url,
        "CREDREG_API_HOST": "127.0.0.1",
        "CREDREG_API_PORT": str(port),
    }
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "credreg.cli", "serve", "--workers", str(workers)],
            cwd=work,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, log_path, min(90.0, deadline.left()))
            yield url, process
        finally:
            stop_process(process)


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise RuntimeError(f"credreg serve exited during start-up: {tail}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"credreg serve was not ready on {url} within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    documents_per_request: int = 1

    @property
    def rate(self) -> float:
        """Documents verified per second."""
        return self.requests * self.documents_per_request / self.seconds if self.seconds > 0 else 0.0


# What a report says when the document is valid, as the service writes it (compact JSON).
_VALID = b'"verdict":"valid"'


async def _client(
    host: str, port: int, requests: list[bytes], first: int, step: int, end: float, budget: list[int],
    latencies: list[float], expected: int,
) -> int:  # fmt: skip
    """One keep-alive HTTP/1.1 connection sending `requests[first::step]` round robin, one at a time, until
    `end` or until the shared `budget` is spent; the number of answers that were not all "valid"."""
    reader, writer = await asyncio.open_connection(host, port)
    errors, n = 0, first
    try:
        while time.perf_counter() < end and budget[0] > 0:
            budget[0] -= 1
            began = time.perf_counter()
            writer.write(requests[n % len(requests)])
            n += step
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            body = await asyncio.wait_for(reader.readexactly(length), 30)
            latencies.append((time.perf_counter() - began) * 1000)
            if not head.startswith(b"HTTP/1.1 200 ") or body.count(_VALID) != expected:
                errors += 1
    finally:
        writer.close()
    return errors


def load(
    url: str, bodies: list[bytes], connections: int, seconds: float, documents_per_request: int = 1
) -> LoadResult:
    """`connections` keep-alive connections POSTing `bodies` round robin for `seconds` (and at most
    MAX_API_REQUESTS requests in all); every answer must say "valid" for each document.

    The client is raw HTTP/1.1 on asyncio in this process: about 50 µs of CPU a request, where a thread per
    connection with httpx cost several times that, taken from the same two cores as the server."""
    address = url.removeprefix("http://")
    host, _, port = address.partition(":")
    requests = [
        b"POST /v1/verify HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (address.encode(), len(body))
        + body
        for body in bodies
    ]
    latencies: list[float] = []

    async def run() -> int:
        end = time.perf_counter() + seconds
        budget = [MAX_API_REQUESTS]
        errors = await asyncio.gather(
            *(
                _client(
                    host, int(port), requests, c, connections, end, budget, latencies, documents_per_request
                )
                for c in range(connections)
            )
        )
        return sum(errors)

    started = time.perf_counter()
    errors = asyncio.run(run())
    elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), errors, elapsed, sorted(latencies), documents_per_request)


API_LIST = 20  # documents per request in the batched variant


def _load_runs(
    url: str,
    bodies: list[bytes],
    cfg: Config,
    per_request: int,
    deadline: Deadline,
    log: Callable[[str], None],
) -> list[LoadResult]:
    runs = []
    for _ in range(cfg.runs):
        deadline.check("API verification")
        result = load(url, bodies, cfg.api_workers, cfg.api_seconds, per_request)
        if result.errors:
            raise RuntimeError(f"{result.errors} of {result.requests} API answers were not all 'valid'")
        if not result.requests:
            raise RuntimeError("the API answered no request in time")
        runs.append(result)
        log(
            f"  POST /v1/verify ({per_request} per request): {result.rate:,.0f} documents/s, "
            f"p50 {percentile(result.latencies_ms, 0.5):.1f} ms, p99 {percentile(result.latencies_ms, 0.99):.1f} ms"
        )
    return runs


def _summary(runs: list[LoadResult]) -> list[dict[str, Any]]:
    return [
        {
            "requests": r.requests,
            "documents_per_second": r.rate,
            "p50_ms": percentile(r.latencies_ms, 0.5),
            "p99_ms": percentile(r.latencies_ms, 0.99),
        }
        for r in runs
    ]


def measure_verify_api(
    s: Setup,
    documents: list[bytes],
    cfg: Config,
    work: Path,
    deadline: Deadline,
    log: Callable[[str], None],
    library_rate: float | None = None,
) -> list[Row]:
    """`POST /v1/verify` of `credreg serve --workers 2`, one document a request and lists, beside the library's
    rate measured in the same run (`library_rate`, documents/s)."""
    # For "where the time goes": the same one-document verification in this process, without HTTP.
    sample = [json.loads(d) for d in documents[:200]]
    started = time.perf_counter()
    for document in sample:
        verify_documents(s.registry, [document])
    in_process_ms = (time.perf_counter() - started) / len(sample) * 1000
    lists = [
        b"[" + b",".join(documents[i : i + API_LIST]) + b"]"
        for i in range(0, max(1, len(documents) - API_LIST + 1), API_LIST)
    ]
    with api_server(s, work, deadline) as url:
        # Warm up: imports, connections, and each worker's ledger cache (it follows the event index).
        load(url, documents[:50], 1, min(1.0, cfg.api_seconds))
        singles = _load_runs(url, documents, cfg, 1, deadline, log)
        batched = _load_runs(url, lists, cfg, min(API_LIST, len(documents)), deadline, log)
        # Which block the workers answered as of (null: the ledger cache stood aside, reads went to the chain).
        as_of = sorted(
            {httpx.get(url + "/readyz", timeout=5).json().get("answers_as_of") for _ in range(6)},
            key=lambda block: -1 if block is None else block,
        )
    rate = median([r.rate for r in singles])
    p50 = median([percentile(r.latencies_ms, 0.5) for r in singles])
    p99 = median([percentile(r.latencies_ms, 0.99) for r in singles])
    if library_rate:
        log(
            f"  POST /v1/verify {rate:,.0f} documents/s (p50 {p50:.1f} ms, p99 {p99:.1f} ms) beside the "
            f"library's {library_rate:,.0f}/s in this run: {rate / library_rate:.2f}× the library"
        )
    judge = "" if cfg.judge_rates else TOO_SMALL
    label = f"POST /v1/verify, --workers {API_SERVER_WORKERS}, {cfg.api_workers} connections"
    return [
        Row(
            "verify.api_rate",
            "verification",
            label + ", one document each, documents/s (baseline: the library's rate, one batch)",
            "docs/s",
            rate,
            peers={"base": library_rate} if library_rate else {},
            targets=[check("≥ 1,500 documents/s", rate, lambda v: v >= 1_500, judge)],
            detail={
                "connections": cfg.api_workers,
                "seconds_per_run": cfg.api_seconds,
                "runs": _summary(singles),
                "in_process_ms_per_document": in_process_ms,
                "library_rate": library_rate,
                "ratio_to_library": rate / library_rate if library_rate else None,
                "basis": f"credreg serve --workers {API_SERVER_WORKERS}, its ledger cache on; a keep-alive "
                "HTTP/1.1 client on asyncio in the benchmark process; the chain on the same machine",
                "server_workers": API_SERVER_WORKERS,
                "answers_as_of": as_of,
            },
        ),
        Row("verify.api_p50", "verification", label + ", one document each, median latency", "ms", p50),
        Row(
            "verify.api_p99",
            "verification",
            label + ", one document each, p99 latency",
            "ms",
            p99,
            targets=[check("p99 < 20 ms", p99, lambda v: v < 20, judge)],
        ),
        Row(
            "verify.api_lists",
            "verification",
            label + f", lists of {API_LIST}, documents/s",
            "docs/s",
            median([r.rate for r in batched]),
            detail={
                "runs": _summary(batched),
                "p99_ms_per_request": median([percentile(r.latencies_ms, 0.99) for r in batched]),
            },
        ),
    ]


# --- a national batch's leaves uploaded to the service in parts -------------------------------------------

#: Leaves of the uploaded batch: a national batch, and a few parts' worth with --quick.
UPLOAD_LEAVES = {"full": 1_000_000, "quick": 25_000}
UPLOAD_MEMORY_TARGET_MB = 300  # issue 15: a national batch in bounded memory


def _proc_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def measure_batch_upload(
    s: Setup, cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> list[Row]:
    """A batch's leaves (1,000,000 in the full run) uploaded in parts to `credreg serve --workers 1` (SQLite),
    checked and listed: the service's peak resident memory and its rate, leaves per second of the whole
    upload and per CPU-second of the service's own process (the machine is shared: the CPU time is the
    steadier figure)."""
    from credreg.documents.merkle import MerkleTree
    from credreg.registry import Relayer, sign_batch_leaves

    count = UPLOAD_LEAVES.get(cfg.name, UPLOAD_LEAVES["quick"])
    leaves = ["0x" + os.urandom(32).hex() for _ in range(count)]
    root = "0x" + MerkleTree(bytes.fromhex(x[2:]) for x in leaves).root.hex()
    Relayer(s.registry, s.relayer).issue(
        s.registry.sign_issue(s.signer, s.registry.issue_request(root, s.scope_id))
    )
    body = sign_batch_leaves(s.signer, s.registry.domain, s.agency_id, root, leaves).model_dump(mode="json")
    del body["leaves"], body["type"]
    body["count"] = count
    with serve_process(s, work, deadline, workers=1, name="upload") as (url, process):
        pid = process.pid
        with httpx.Client(base_url=url, timeout=600) as client:
            # Warm up on a small batch, then measure from the service's resident size after it.
            small = ["0x" + os.urandom(32).hex() for _ in range(20)]
            small_root = "0x" + MerkleTree(bytes.fromhex(x[2:]) for x in small).root.hex()
            Relayer(s.registry, s.relayer).issue(
                s.registry.sign_issue(s.signer, s.registry.issue_request(small_root, s.scope_id))
            )
            warm = sign_batch_leaves(s.signer, s.registry.domain, s.agency_id, small_root, small)
            warm_body = warm.model_dump(mode="json")
            del warm_body["leaves"], warm_body["type"]
            started = client.post("/v1/batches/uploads", json=warm_body | {"count": len(small)}).json()
            client.put(f"{started['location']}/parts/1", json={"leaves": small}).raise_for_status()
            client.post(f"{started['location']}/complete").raise_for_status()
            baseline = _proc_mb(pid, "VmRSS")
            cpu_before = process_cpu_seconds(pid)
            began = time.perf_counter()
            state = client.post("/v1/batches/uploads", json=body)
            state.raise_for_status()
            upload = state.json()
            per, total = int(upload["part_leaves"]), int(upload["parts_total"])
            for n in range(1, total + 1):
                deadline.check("the batch upload")
                client.put(
                    f"{upload['location']}/parts/{n}", json={"leaves": leaves[(n - 1) * per : n * per]}
                ).raise_for_status()
            sent = time.perf_counter() - began
            done = client.post(f"{upload['location']}/complete")
            done.raise_for_status()
            seconds = time.perf_counter() - began
            cpu = process_cpu_seconds(pid) - cpu_before
            peak = _proc_mb(pid, "VmHWM")
            if done.json()["added"] != count:
                raise RuntimeError(f"the service listed {done.json()['added']} of {count} leaves")
            probe = client.get(f"/v1/credentials/{leaves[count // 2]}")
            if probe.status_code != 200 or probe.json().get("valid") is not True:
                raise RuntimeError(f"a leaf of the uploaded batch does not verify: {probe.text[:300]}")
            # The first status list request builds the lists from every known batch's leaves.
            issued_to = s.registry.w3.eth.block_number
            while (client.get("/readyz").json()["indexed_to"] or -1) < issued_to:
                deadline.check("the index reaching the upload's block")
                time.sleep(0.2)
            lists_before = _proc_mb(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current size
            lists_cpu_before = process_cpu_seconds(pid)
            client.get("/v1/status/revocation/0").raise_for_status()
            lists_cpu = process_cpu_seconds(pid) - lists_cpu_before
            lists_peak = _proc_mb(pid, "VmHWM")
            # The batch's leaves as the VC export and the status list audit read them, streamed.
            answer_before = _proc_mb(pid, "VmRSS")
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            answer_cpu_before = process_cpu_seconds(pid)
            answer = client.get("/v1/status/batches", params={"root": root})
            answer.raise_for_status()
            answer_cpu = process_cpu_seconds(pid) - answer_cpu_before
            answer_peak = _proc_mb(pid, "VmHWM")
            answer_bytes = len(answer.content)
            if [len(b["leaves"]) for b in answer.json()["batches"]] != [count]:
                raise RuntimeError(
                    f"GET /v1/status/batches?root={root} did not answer the batch's {count} leaves"
                )
            del answer
    rate = count / seconds
    log(
        f"  batch upload of {count:,} leaves in {total} parts of {per:,}: {seconds:.1f} s ({rate:,.0f} leaves/s, "
        f"{count / cpu:,.0f} per service CPU-second), service peak {peak:.0f} MB ({peak - baseline:+.0f} MB); "
        f"first status list: peak {lists_peak:.0f} MB ({lists_peak - lists_before:+.0f} MB, {lists_cpu:.1f} CPU-s); "
        f"its leaves from /v1/status/batches: peak {answer_peak:.0f} MB ({answer_peak - answer_before:+.0f} MB, "
        f"{answer_cpu:.1f} CPU-s, {answer_bytes / 1e6:.0f} MB of JSON)"
    )
    judge = "" if cfg.name == "full" else f"--quick: {count:,} leaves, not a national batch"
    label = f"POST /v1/batches/uploads of {count:,} leaves, credreg serve --workers 1, SQLite"
    detail = {
        "leaves": count,
        "parts": total,
        "part_leaves": per,
        "seconds": seconds,
        "seconds_sending_parts": sent,
        "seconds_checking_and_listing": seconds - sent,
        "service_cpu_seconds": cpu,
        "leaves_per_service_cpu_second": count / cpu if cpu else None,
        "service_rss_before_mb": baseline,
        "service_peak_rss_mb": peak,
        "service_growth_mb": peak - baseline,
        "basis": "the service's own process: /proc/<pid>/status VmHWM (peak resident size since it started) "
        "and /proc/<pid>/stat CPU time; an httpx client in the benchmark process on loopback",
    }
    return [
        Row("upload.national", "service", label + ", leaves/s", "leaves/s", rate, detail=detail),
        Row(
            "upload.national_memory",
            "service",
            label + ": the service's peak resident memory",
            "MB",
            peak,
            targets=[
                check(f"< {UPLOAD_MEMORY_TARGET_MB} MB", peak, lambda v: v < UPLOAD_MEMORY_TARGET_MB, judge)
            ],
            detail={"service_growth_mb": peak - baseline, "service_rss_before_mb": baseline},
        ),
        Row(
            "upload.status_list_memory",
            "service",
            f"GET /v1/status/revocation/0 first after the upload ({count:,} leaves known): "
            "the service's peak resident memory building the lists",
            "MB",
            lists_peak,
            targets=[
                check(
                    f"< {UPLOAD_MEMORY_TARGET_MB} MB",
                    lists_peak,
                    lambda v: v < UPLOAD_MEMORY_TARGET_MB,
                    judge,
                )
            ],
            detail={
                "service_rss_before_mb": lists_before,
                "service_growth_mb": lists_peak - lists_before,
                "service_cpu_seconds": lists_cpu,
                "basis": "VmHWM reset through /proc/<pid>/clear_refs just before the request",
            },
        ),
        Row(
            "upload.status_batches_memory",
            "service",
            f"GET /v1/status/batches?root=… of the uploaded batch ({count:,} leaves, streamed) after the "
            "lists are built: the service's peak resident memory",
            "MB",
            answer_peak,
            targets=[
                check(
                    f"< {UPLOAD_MEMORY_TARGET_MB} MB",
                    answer_peak,
                    lambda v: v < UPLOAD_MEMORY_TARGET_MB,
                    judge,
                )
            ],
            detail={
                "service_rss_before_mb": answer_before,
                "service_growth_mb": answer_peak - answer_before,
                "service_cpu_seconds": answer_cpu,
                "answer_bytes": answer_bytes,
                "basis": "VmHWM reset through /proc/<pid>/clear_refs just before the request",
            },
        ),
    ]


def upload_main(argv: Sequence[str] | None = None) -> int:
    """`python scripts/bench upload [--quick]`: the batch upload's rows alone, printed as JSON."""
    import argparse
    import shutil
    import tempfile

    from bench.core import FULL, QUICK, BenchChain, deploy_credreg

    parser = argparse.ArgumentParser(
        prog="python scripts/bench upload", description=measure_batch_upload.__doc__
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{UPLOAD_LEAVES['quick']:,} leaves, not a million"
    )
    args = parser.parse_args(None if argv is None else list(argv))
    cfg = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="credreg-bench-upload-"))
    try:
        with BenchChain(host="127.0.0.1", port=free_port(), persist=False) as chain:
            rows = measure_batch_upload(deploy_credreg(chain), cfg, work, Deadline(cfg.timeout), print)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for row in rows:
        print(json.dumps({"id": row.id, "unit": row.unit, "credreg": row.credreg, "detail": row.detail}))
    return 0
