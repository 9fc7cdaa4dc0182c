"""HubSpot's error envelopes: 401, 404, unknown object types, and the flaky profile's 429s and 5xxs."""

from pathlib import Path

import httpx
import pytest
from hubspot.crm.companies import ApiException

from sandbox.clock import SandboxClock
from sandbox.crm.app import DEFAULT_TOKEN, create_app
from sandbox.faults import FaultPlan
from sandbox.http import SandboxServer

from .crm_fixture import AS_OF, CrmFixture, sdk

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def _envelope(body: dict, category: str) -> None:
    assert body["status"] == "error" and body["category"] == category
    assert body["message"] and len(body["correlationId"]) == 36


def test_401_with_a_wrong_or_missing_token(reader: SandboxServer) -> None:
    with pytest.raises(ApiException) as err:
        sdk(reader, token="pat-wrong").crm.companies.basic_api.get_page()
    assert err.value.status == 401
    _envelope(httpx.get(f"{reader.url}/crm/v3/objects/companies").json(), "INVALID_AUTHENTICATION")


def test_404_in_hubspots_envelope(reader: SandboxServer) -> None:
    with pytest.raises(ApiException) as err:
        sdk(reader).crm.companies.basic_api.get_by_id("424242")
    assert err.value.status == 404
    _envelope(httpx.get(f"{reader.url}/crm/v3/objects/companies/424242", headers=AUTH).json(), "OBJECT_NOT_FOUND")
    _envelope(httpx.get(f"{reader.url}/crm/v3/nothing-here", headers=AUTH).json(), "OBJECT_NOT_FOUND")


def test_unknown_object_type_is_a_validation_error(reader: SandboxServer) -> None:
    resp = httpx.get(f"{reader.url}/crm/v3/objects/widgets", headers=AUTH)
    assert resp.status_code == 400
    _envelope(resp.json(), "VALIDATION_ERROR")


def test_success_carries_rate_limit_headers(reader: SandboxServer) -> None:
    resp = httpx.get(f"{reader.url}/crm/v3/objects/companies", headers=AUTH)
    assert resp.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert "X-HubSpot-RateLimit-Remaining" in resp.headers


def test_flaky_profile_429_and_500_shapes(crm_fixture: CrmFixture, tmp_path: Path) -> None:
    app = create_app(crm_fixture.root, tmp_path, clock=SandboxClock(AS_OF), faults=FaultPlan("flaky", seed=3))
    seen: dict[int, httpx.Response] = {}
    with SandboxServer(app) as srv, httpx.Client(headers=AUTH, timeout=5) as http:
        for limit in range(1, 101):  # distinct requests, each with its own deterministic fate
            try:
                resp = http.get(f"{srv.url}/crm/v3/objects/companies", params={"limit": limit})
            except httpx.TransportError:
                continue  # a dropped connection, also part of the profile
            seen.setdefault(resp.status_code, resp)
        assert srv.errors == []
    limited = seen[429]
    body = limited.json()
    _envelope(body, "RATE_LIMITS")
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"]
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    _envelope(seen[500].json(), "INTERNAL_ERROR")
    assert 200 in seen
