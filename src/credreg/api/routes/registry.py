"""For everyone: which registry this is, its scopes, and its agencies with their keys and history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from credreg import __version__
from credreg.api.deps import IndexDep, RegistryDep, SettingsDep
from credreg.api.models import (
    AccreditationOut,
    AgencyDetail,
    AgencyList,
    AgencyOut,
    RegistryInfo,
    ScopeList,
    ScopeOut,
    SignerOut,
)
from credreg.api.problems import ProblemError
from credreg.api.routes.events import event_out
from credreg.chain.states import in_window
from credreg.documents.scopes import SCOPE_EXAMPLE, ScopeFormatError, parse_scope
from credreg.registry import AgencyInfo, AgencyState, Registry, scope_id_of
from credreg.service.index import EventQuery

router = APIRouter(prefix="/v1", tags=["registry"])

UINT32_MAX = 2**32 - 1
# Events that describe an agency itself; its credentials are listed by /v1/audit/events?agency_id=.
AGENCY_EVENTS = (
    "AgencyRegistered",
    "AgencyAdminTransferred",
    "AgencySuspended",
    "AgencyReinstated",
    "AgencyRevoked",
    "AgencyAccredited",
    "AccreditationWithdrawn",
    "SignerAdded",
    "SignerRetired",
    "SignerCompromised",
)
MAX_HISTORY = 10_000


@router.get("/registry", response_model=RegistryInfo, summary="Chain, contract address, deployment, versions")
def registry_info(registry: RegistryDep, settings: SettingsDep) -> RegistryInfo:
    manifest = registry.manifest
    return RegistryInfo(
        chain_id=manifest.chain_id,
        registry=registry.address,
        deployment_block=manifest.deployment_block,
        deployment_transaction=manifest.registry.transaction_hash,
        governor=registry.governor(),
        contract_version=registry.version(),
        compiler_version=manifest.compiler_version,
        evm_version=manifest.evm_version,
        deployed_by_credreg=manifest.credreg_version,
        service_version=__version__,
        deployed_at=manifest.deployed_at,
        head_block=registry.head(),
        rpc_urls=settings.public_rpc_urls or [settings.effective_rpc_url],
    )


@router.get(
    "/scopes/{scope:path}",
    response_model=ScopeOut,
    summary=f"One scope, by occupation code and level ({SCOPE_EXAMPLE}) or by its 0x id",
)
def scope(registry: RegistryDep, scope: Annotated[str, Path(examples=[SCOPE_EXAMPLE])]) -> ScopeOut:
    try:
        parsed = parse_scope(scope)
    except ScopeFormatError as exc:
        raise ProblemError(422, "validation", str(exc), field="scope") from None
    scope_id = parsed if isinstance(parsed, str) else scope_id_of(parsed.occupation_code, parsed.level)
    info = registry.scope(scope_id)
    if info.index == 0:
        raise ProblemError(404, "not-found", f"scope {scope} is not defined on the ledger", field="scope")
    return ScopeOut(
        scope_id=info.scope_id,
        index=info.index,
        occupation_code=info.occupation_code,
        level=info.level,
        title=info.title,
    )


@router.get("/scopes", response_model=ScopeList, summary="Every occupation scope, in definition order")
def scopes(registry: RegistryDep) -> ScopeList:
    found = []
    for index in range(1, registry.scope_count() + 1):
        info = registry.scope(registry.scope_id_at(index))
        found.append(
            ScopeOut(
                scope_id=info.scope_id,
                index=info.index,
                occupation_code=info.occupation_code,
                level=info.level,
                title=info.title,
            )
        )
    return ScopeList(scopes=found)


def _agency_out(info: AgencyInfo) -> AgencyOut:
    return AgencyOut(
        agency_id=info.agency_id,
        name=info.name,
        registration_code=info.registration_code,
        admin=info.admin,
        state=info.state.name.lower(),
        reason=info.reason,
        revocation_cutoff=info.cutoff if info.state is AgencyState.REVOKED else None,
    )


@router.get("/agencies", response_model=AgencyList, summary="Agencies by id, a page at a time")
def agencies(
    registry: RegistryDep,
    from_id: Annotated[int, Query(ge=1, le=UINT32_MAX, description="First agency id of the page.")] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AgencyList:
    count = registry.agency_count()
    last = min(count, from_id + limit - 1)
    listed = [_agency_out(registry.agency(agency_id)) for agency_id in range(from_id, last + 1)]
    return AgencyList(agencies=listed, next_from_id=last + 1 if last < count else None)


def _accreditations(registry: Registry, agency_id: int, now: int, active: bool) -> list[AccreditationOut]:
    found = []
    for index in range(1, registry.scope_count() + 1):
        scope = registry.scope(registry.scope_id_at(index))
        window = registry.accreditation(agency_id, scope.scope_id)
        if window.scope_index == 0:
            continue
        found.append(
            AccreditationOut(
                scope_id=scope.scope_id,
                occupation_code=scope.occupation_code,
                level=scope.level,
                title=scope.title,
                valid_from=window.valid_from,
                valid_until=window.valid_until,
                active_now=active and in_window(window.valid_from, window.valid_until, now),
            )
        )
    return found


@router.get(
    "/agencies/{agency_id}",
    response_model=AgencyDetail,
    summary="One agency: state, accreditations, signer keys and their windows, history",
    responses={404: {"description": "No agency has this id."}},
)
def agency(
    registry: RegistryDep,
    index: IndexDep,
    agency_id: Annotated[int, Path(ge=1, le=UINT32_MAX)],
) -> AgencyDetail:
    info = registry.agency(agency_id)
    if info.state is AgencyState.NONE:
        raise ProblemError(404, "not-found", f"there is no agency {agency_id}", field="agency_id")
    now = registry.block_time()
    indexed_to = index.indexed_to()
    history = index.events(EventQuery(names=AGENCY_EVENTS, agency_id=agency_id, limit=MAX_HISTORY))
    addresses = list(dict.fromkeys(str(e.args_dict()["signer"]) for e in history if e.name == "SignerAdded"))
    signers = []
    for address in addresses:
        signer = registry.signer(address)
        signers.append(
            SignerOut(
                address=signer.address,
                index=signer.index,
                valid_from=signer.valid_from,
                valid_until=signer.valid_until,
                compromised_since=signer.compromised_since,
                valid_now=in_window(signer.valid_from, signer.valid_until, now)
                and (signer.compromised_since == 0 or now < signer.compromised_since),
            )
        )
    base = _agency_out(info)
    return AgencyDetail(
        **base.model_dump(),
        accreditations=_accreditations(registry, agency_id, now, info.state is AgencyState.ACTIVE),
        signers=signers,
        history=[event_out(e) for e in history],
        indexed_to=indexed_to,
    )
