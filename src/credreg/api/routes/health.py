"""For operators and orchestrators: is the process up, is it ready to serve."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from credreg import __version__
from credreg.api.deps import ServiceDep
from credreg.api.models import Health, NodeHealthOut, Readiness
from credreg.api.problems import RETRY_AFTER_SECONDS
from credreg.chain.client import FailoverProvider
from credreg.chain.redact import redact
from credreg.service import Service

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(version=__version__)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Chain reachable, contract found, event index caught up",
    responses={503: {"model": Readiness, "description": "Not ready; the body says which check failed."}},
)
def readyz(service: ServiceDep) -> JSONResponse:
    state = service.readiness()
    body = Readiness(
        ready=state.ready,
        chain_reachable=state.chain_ok,
        contract_found=state.contract_ok,
        index_caught_up=state.index_ok,
        head_block=state.head_block,
        indexed_to=state.indexed_to,
        detail=redact(state.detail),
        diverged=state.diverged,
        nodes=_nodes(service.registry.w3.provider),
        answers_as_of=_answers_as_of(service),
    )
    headers = None if state.ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(
        body.model_dump(mode="json"), status_code=200 if state.ready else 503, headers=headers
    )


def _answers_as_of(service: Service) -> int | None:
    as_of = service.ledger.as_of() if service.ledger is not None else None
    return as_of.number if as_of is not None else None


def _nodes(provider: object) -> list[NodeHealthOut] | None:
    if not isinstance(provider, FailoverProvider):
        return None
    return [
        NodeHealthOut(
            url=node.shown,
            healthy=not node.refused and node.failures == 0,
            failures=node.failures,
            refused=node.refused or None,
            last_error=node.last_error or None,
        )
        for node in provider.health()
    ]
