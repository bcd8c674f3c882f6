"""`POST /v1/verify` of a `credreg serve` process on loopback, under a load generator bounded in count and time."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
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
)
from credreg.chain.devchain import free_port
from credreg.verify import verify_documents


@contextlib.contextmanager
def api_server(s: Setup, work: Path, deadline: Deadline) -> Iterator[str]:
    """`credreg serve` in its own process on a free loopback port, against the bench chain."""
    data_dir = work / "api"
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
            [sys.executable, "-m", "credreg.cli", "serve", "--workers", str(API_SERVER_WORKERS)],
            cwd=work,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, log_path, min(90.0, deadline.left()))
            yield url
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


def _all_valid(reply: httpx.Response) -> bool:
    if reply.status_code != 200:
        return False
    body = reply.json()
    reports = body if isinstance(body, list) else [body]
    return all(report.get("verdict") == "valid" for report in reports)


def load(
    url: str, bodies: list[bytes], workers: int, seconds: float, documents_per_request: int = 1
) -> LoadResult:
    """`workers` threads POSTing `bodies` round robin for `seconds` (and at most MAX_API_REQUESTS requests in
    all); every answer must say "valid"."""
    counter = iter(range(MAX_API_REQUESTS))
    lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(workers)]
    errors = [0] * workers
    end = time.perf_counter() + seconds
    headers = {"content-type": "application/json"}

    def worker(w: int) -> None:
        with httpx.Client(base_url=url, timeout=10.0, headers=headers) as client:
            while time.perf_counter() < end:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                began = time.perf_counter()
                try:
                    ok = _all_valid(client.post("/v1/verify", content=bodies[n % len(bodies)]))
                except httpx.HTTPError:
                    ok = False
                latencies[w].append((time.perf_counter() - began) * 1000)
                if not ok:
                    errors[w] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    elapsed = time.perf_counter() - started
    merged = sorted(x for per in latencies for x in per)
    return LoadResult(len(merged), sum(errors), elapsed, merged, documents_per_request)


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
    s: Setup, documents: list[bytes], cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> list[Row]:
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
        load(url, documents[:50], 1, min(1.0, cfg.api_seconds))  # warm up: imports, connections, caches
        singles = _load_runs(url, documents, cfg, 1, deadline, log)
        batched = _load_runs(url, lists, cfg, min(API_LIST, len(documents)), deadline, log)
    rate = median([r.rate for r in singles])
    p50 = median([percentile(r.latencies_ms, 0.5) for r in singles])
    p99 = median([percentile(r.latencies_ms, 0.99) for r in singles])
    judge = "" if cfg.judge_rates else TOO_SMALL
    label = f"POST /v1/verify, {cfg.api_workers} clients"
    return [
        Row(
            "verify.api_rate",
            "verification",
            label + ", one document each, documents/s",
            "docs/s",
            rate,
            targets=[check("≥ 500 documents/s", rate, lambda v: v >= 500, judge)],
            detail={
                "workers": cfg.api_workers,
                "seconds_per_run": cfg.api_seconds,
                "runs": _summary(singles),
                "in_process_ms_per_document": in_process_ms,
                "basis": f"credreg serve --workers {API_SERVER_WORKERS}; client threads in the benchmark process",
                "server_workers": API_SERVER_WORKERS,
            },
        ),
        Row("verify.api_p50", "verification", label + ", one document each, median latency", "ms", p50),
        Row(
            "verify.api_p99",
            "verification",
            label + ", one document each, p99 latency",
            "ms",
            p99,
            targets=[check("p99 < 50 ms", p99, lambda v: v < 50, judge)],
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
