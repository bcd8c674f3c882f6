"""Property test of the API from its own OpenAPI schema: whatever schemathesis sends (valid or not), the
service answers without a 5xx, and every client error is an RFC 9457 problem."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from chain_world import Deployed
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.schemas import BaseSchema
from service_support import PROBLEM_BASE, live_server, service_settings

from credreg.api import create_app


@pytest.fixture(scope="module")
def api_url(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings_ = service_settings(tmp_path_factory.mktemp("service"), deployed, max_body_bytes=256 * 1024)
    with live_server(create_app(settings_)) as url:
        yield url


@pytest.fixture
def api_schema(api_url: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_service_fail(case: Case) -> None:
    response = case.call(timeout=30)
    assert response.status_code < 500 or case.path == "/readyz", (case.as_curl_command(), response.text)
    if 400 <= response.status_code < 500:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
        assert content_type.startswith("application/problem+json"), response.text
        problem = response.json()
        assert problem["type"].startswith(PROBLEM_BASE), problem
        assert problem["status"] == response.status_code
        assert problem["detail"]
