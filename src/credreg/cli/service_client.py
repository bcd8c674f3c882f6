"""Talking to a credreg service from the CLI: hand in signed requests and batch leaves, follow issuances."""

from __future__ import annotations

import time
from typing import Any

import httpx

from credreg.errors import ConfigError
from credreg.registry import SignedIssue, SignedStatusChange

#: Most leaves sent inside one request (a service's default `CREDREG_MAX_LEAVES`); more go in parts
#: (`batch_cmds.PARTS_FROM`, the same number).
LEAVES_IN_ONE_REQUEST = 10_000
#: How long `credreg issue --service` waits for the service to have the batch on the ledger.
RELAY_TIMEOUT_SECONDS = 300.0
POLL_SECONDS = 0.5


def _url(service: str, path: str) -> str:
    return service.rstrip("/") + path


def _json(reply: httpx.Response) -> dict[str, Any]:
    if not reply.headers.get("content-type", "").split(";")[0].endswith("json"):
        return {}
    body = reply.json()
    return body if isinstance(body, dict) else {}


def call(
    service: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    timeout: float = 30,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """The service's JSON answer, or a ConfigError saying what it refused and why. Many calls in a row share
    a `client`: each call without one sets up its own connection and TLS context (about 3 MB a time)."""
    try:
        if client is not None:
            reply = client.request(method, _url(service, path), json=body, timeout=timeout)
        else:
            reply = httpx.request(method, _url(service, path), json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ConfigError(f"无法连接服务 {service} / cannot reach the service at {service}: {exc}") from None
    return answer_of(reply)


def answer_of(reply: httpx.Response) -> dict[str, Any]:
    """The service's JSON answer in `reply`, or a ConfigError saying what it refused and why."""
    answer = _json(reply)
    if reply.status_code >= 400:
        raise ConfigError(
            f"服务拒绝了请求 / the service refused the request ({reply.status_code} "
            f"{answer.get('type', '')}): {answer.get('detail', reply.text[:300])}"
        )
    return answer


def submit(
    service: str, signed: SignedIssue | SignedStatusChange, leaves: list[str] | None = None
) -> dict[str, Any]:
    """Hand a signed request to the service; its answer (`id`, `status`, `location`)."""
    route = "/v1/issuances" if isinstance(signed, SignedIssue) else "/v1/revocations"
    body = signed.model_dump(mode="json")
    if leaves:
        body["leaves"] = leaves
    return call(service, "POST", route, body)


def relay_issue(
    service: str, signed: SignedIssue, leaves: list[str], timeout: float = RELAY_TIMEOUT_SECONDS
) -> tuple[str | None, int | None]:
    """Have the service relay `signed` with the batch's leaves; (transaction hash, block) once confirmed.

    A batch of more than `LEAVES_IN_ONE_REQUEST` is relayed without them (they would not fit in one request):
    `credreg issue` then lists its certificates in parts (`batch_cmds.upload_summary`)."""
    if len(leaves) > LEAVES_IN_ONE_REQUEST:
        from credreg.cli.common import err_console

        err_console.print(
            f"批次有 {len(leaves)} 个证书：服务先转发其根，上链后再分批登记证书 / the batch has {len(leaves)} "
            "certificates: the service relays its root first, and they are listed in parts once it is recorded"
        )
        leaves = []
    accepted = submit(service, signed, leaves)
    location = str(accepted.get("location") or f"/v1/issuances/{accepted.get('id')}")
    give_up = time.monotonic() + timeout
    while True:
        state = call(service, "GET", location)
        if state.get("status") == "confirmed":
            return state.get("tx_hash"), state.get("block_number")
        if state.get("status") == "failed":
            error = state.get("error") or {}
            raise ConfigError(
                f"服务未能上链 / the service could not record the batch: {error.get('message', 'failed')} "
                f"(request {accepted.get('id')})"
            )
        if time.monotonic() > give_up:
            raise ConfigError(
                f"服务尚未确认 / the service has not confirmed the batch within {timeout:.0f} s (request "
                f"{accepted.get('id')} is {state.get('status')}); follow it at {_url(service, location)} and "
                "run the same command again once it is confirmed, to write the documents"
            )
        time.sleep(POLL_SECONDS)
