"""For operators and orchestrators: is the process up, is it ready to serve."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from credreg import __version__
from credreg.api.deps import ServiceDep
from credreg.api.models import Health, Readiness
from credreg.api.problems import RETRY_AFTER_SECONDS
from credreg.chain.redact import redact

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
    )
    headers = None if state.ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(
        body.model_dump(mode="json"), status_code=200 if state.ready else 503, headers=headers
    )
