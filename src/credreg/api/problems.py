"""Every error answer is an RFC 9457 problem (`application/problem+json`) with a stable `type` URI.

`type` is `https://credreg.dev/problems/<slug>`: clients branch on it, never on `title` or `detail`. A
problem about the request names the offending field in `detail` and, for validation, lists every field in
`errors`. Nothing a client sends yields a 500: anything unexpected is logged and answered as `internal`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from credreg.chain.eip712 import ADDRESS, HEX32
from credreg.chain.redact import redact
from credreg.errors import ChainUnreachable, ContractRevert, CredregError, DocumentError, WrongChain
from credreg.labels import UPLOAD_PROBLEMS, contract_error_words
from credreg.service.intake import RequestRefused, json_args
from credreg.service.limits import LimitReached
from credreg.service.uploads import UploadProblem

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://credreg.dev/problems/"
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5

TITLES: dict[str, str] = {
    "validation": "The request is not valid",
    "malformed-json": "The body is not valid JSON",
    "unsupported-media-type": "The body must be JSON",
    "body-too-large": "The request body is too large",
    "batch-too-large": "Too many items in one request",
    "not-found": "Not found",
    "unknown-hash": "Not a batch root, and in no batch this service knows",
    "method-not-allowed": "Method not allowed",
    "wrong-domain": "Signed for another registry or chain",
    "invalid-signature": "The signature is not usable",
    "invalid-leaves": "The leaves do not make the request's root",
    "already-requested": "The same change is already requested",
    "stale-nonce": "The request was signed with an old nonce",
    "deadline-too-far": "The request's deadline is too far ahead",
    "valid-until-too-far": "The validity date is too far ahead",
    "rate-limited": "Too many requests from this agency; try again later",
    "quota-exceeded": "The agency's daily relaying quota is used up; try again later",
    "chain-unavailable": "The ledger cannot be reached",
    "chain-mismatch": "The ledger is not the one the deployment names",
    "ledger-error": "The ledger answered with an error",
    "status-lists-unavailable": "The status lists cannot be published",
    "no-position": "The certificate has no status list position here",
    "internal": "Internal error",
    "http-error": "HTTP error",
    # A batch's leaves sent in parts: titles in both languages (credreg.labels).
    **{slug: str(words) for slug, words in UPLOAD_PROBLEMS.items() if "." not in slug},
}
CONFLICT_STATUS = 409
REFUSED_STATUS = 422


class FieldProblem(BaseModel):
    field: str = Field(description="Where in the request: dotted path, list items as [n].")
    message: str


class ContractErrorOut(BaseModel):
    name: str = Field(description="The contract's custom error, e.g. CredentialRegistryNotAccredited.")
    args: dict[str, Any]
    message: str
    zh: str = Field(description="What it means and what to do, in Chinese (credreg.labels).")
    en: str = Field(description="What it means and what to do, in English (credreg.labels).")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="Stable URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    contract_error: ContractErrorOut | None = None


class ProblemError(Exception):
    """Raised by routes to answer with a problem."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.field = field
        self.headers = headers


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[FieldProblem] | None = None,
    contract_error: ContractRevert | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_BASE + slug,
        title=title or TITLES.get(slug, slug.replace("-", " ").capitalize()),
        status=status,
        detail=redact(detail),
        instance=request.url.path,
        errors=list(errors) if errors is not None else None,
        contract_error=ContractErrorOut(
            name=contract_error.name,
            args=json_args(contract_error.args_by_name),
            message=str(contract_error),
            **contract_error_words(contract_error.name)._asdict(),
        )
        if contract_error is not None
        else None,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def field_name(loc: Sequence[int | str]) -> str:
    """("body", "request", "root") -> "request.root"; ("body", "leaves", 3) -> "leaves[3]"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or [parts[0]]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif "[" in part or part.startswith(("function-", "list[", "dict[")):
            continue  # pydantic's union-member tags say nothing to a client
        else:
            name += ("." if name else "") + part
    return name or "body"


def _message(error: dict[str, Any]) -> str:
    pattern = (error.get("ctx") or {}).get("pattern")
    if pattern == HEX32:
        return "expected a 32-byte hash: 0x followed by 64 hex digits"
    if pattern == ADDRESS:
        return "expected an address: 0x followed by 40 hex digits"
    return str(error.get("msg", "invalid value"))


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem."""

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            where = (errors[0].get("ctx") or {}).get("error", "")
            return problem_response(
                request, 400, "malformed-json", f"the body is not valid JSON: {where}".strip()
            )
        body_errors = [e for e in errors if tuple(e.get("loc", ()))[:1] == ("body",)]
        if body_errors and _has_body(request) and not _is_json(request):
            return problem_response(
                request,
                415,
                "unsupported-media-type",
                "send the body as JSON with Content-Type: application/json",
            )
        fields = [FieldProblem(field=field_name(e.get("loc", ())), message=_message(e)) for e in errors]
        # Unions report one error per member; keep each field once, in order.
        unique = list({(f.field, f.message): f for f in fields}.values())
        first = unique[0]
        more = f" (and {len(unique) - 1} more)" if len(unique) > 1 else ""
        return problem_response(
            request, 422, "validation", f"{first.field}: {first.message}{more}", errors=unique
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {
            # FastAPI answers 400 only for a body its JSON parser gave up on (nested too deeply).
            400: "malformed-json",
            404: "not-found",
            405: "method-not-allowed",
            413: "body-too-large",
            415: "unsupported-media-type",
        }
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is nothing at {request.url.path}"
        elif exc.status_code == 413:
            detail = "the request body is larger than this service accepts"
        elif exc.status_code == 400:
            detail = f"the body could not be read as JSON ({detail.lower()}; is it nested too deeply?)"
        return problem_response(
            request,
            exc.status_code,
            slug.get(exc.status_code, "http-error"),
            detail,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        errors = [FieldProblem(field=exc.field, message=exc.detail)] if exc.field else None
        detail = f"{exc.field}: {exc.detail}" if exc.field else exc.detail
        return problem_response(request, exc.status, exc.slug, detail, errors=errors, headers=exc.headers)

    @app.exception_handler(RequestRefused)
    async def on_refused(request: Request, exc: RequestRefused) -> JSONResponse:
        status = CONFLICT_STATUS if exc.conflict else REFUSED_STATUS
        if isinstance(exc, UploadProblem):
            status = exc.status
        errors = [FieldProblem(field=exc.field, message=exc.detail)] if exc.field else None
        detail = f"{exc.field}: {exc.detail}" if exc.field else exc.detail
        return problem_response(
            request, status, exc.problem, detail, errors=errors, contract_error=exc.contract_error
        )

    @app.exception_handler(LimitReached)
    async def on_limit(request: Request, exc: LimitReached) -> JSONResponse:
        return problem_response(
            request, 429, exc.problem, exc.detail, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(ChainUnreachable)
    async def on_unreachable(request: Request, exc: ChainUnreachable) -> JSONResponse:
        return problem_response(
            request,
            503,
            "chain-unavailable",
            f"the ledger does not answer; try again later ({exc})",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(WrongChain)
    async def on_wrong_chain(request: Request, exc: WrongChain) -> JSONResponse:
        return problem_response(
            request, 503, "chain-mismatch", str(exc), headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.exception_handler(ContractRevert)
    async def on_revert(request: Request, exc: ContractRevert) -> JSONResponse:
        return problem_response(request, 502, "ledger-error", str(exc), contract_error=exc)

    @app.exception_handler(DocumentError)
    async def on_document(request: Request, exc: DocumentError) -> JSONResponse:
        field = getattr(exc, "field", None)
        errors = [FieldProblem(field=str(field), message=str(exc))] if field else None
        return problem_response(request, 422, "validation", str(exc), errors=errors)

    @app.exception_handler(CredregError)
    async def on_credreg(request: Request, exc: CredregError) -> JSONResponse:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return problem_response(request, 500, "internal", f"{type(exc).__name__}: {exc}")

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem_response(request, 500, "internal", "the service failed to answer; the error is logged")
