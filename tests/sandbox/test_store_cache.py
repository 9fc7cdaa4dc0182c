"""Warm starts from the store cache: a warm-started sandbox serves exactly what a cold-loaded one does, its
writes never reach the cache, and any change to the fixtures or the code falls back to a cold load."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox import store_cache
from sandbox.clock import SandboxClock, parse_iso
from sandbox.cluster import SYSTEMS, SandboxCluster
from sandbox.fixtures import dumps, read_manifest
from sandbox.inventory import BILLING_COLLECTIONS, COUNTERS, CRM_OBJECTS, ERP_RECORDS


@pytest.fixture
def fixtures(scenario_s: Path, tmp_path: Path) -> Path:
    """A private copy of the S scenario (tests here write into it)."""
    out = tmp_path / "scenario"
    shutil.copytree(scenario_s, out, ignore=shutil.ignore_patterns(store_cache.CACHE_DIRNAME))
    return out


def start(fixtures: Path, tmp_path: Path, **options) -> SandboxCluster:
    """A cluster on a frozen clock, not started yet: use it as ``with start(...) as cluster``."""
    clock = SandboxClock(parse_iso(read_manifest(fixtures)["as_of"]), frozen=True)
    return SandboxCluster(fixtures, scratch_root=tmp_path / "scratch", clock=clock, **options)


def status(fixtures: Path, tmp_path: Path, **options) -> dict[str, str]:
    """Start and stop a cluster; how each system's store was made."""
    with start(fixtures, tmp_path, **options) as cluster:
        return cluster.store_cache_status


def _http(endpoint) -> httpx.Client:
    return httpx.Client(base_url=endpoint.url, headers={"Authorization": f"Bearer {endpoint.token}"}, timeout=60)


def served(cluster: SandboxCluster) -> dict:
    """Every list page each system serves (bodies verbatim), its counts, and what the apps derived at load."""
    out: dict = {}
    with _http(cluster.endpoint("billing")) as http:
        for name in BILLING_COLLECTIONS:
            params: dict = {"limit": 100, **({"status": "all"} if name == "subscriptions" else {})}
            pages = []
            while True:
                page = http.get(f"/v1/{name}", params=params).raise_for_status().json()
                pages.append(page)
                if not page["has_more"]:
                    break
                params["starting_after"] = page["data"][-1]["id"]
            out[f"billing/{name}"] = pages
        first_invoice = out["billing/invoices"][0]["data"][0]["id"]
        out["billing/lines"] = http.get(f"/v1/invoices/{first_invoice}/lines", params={"limit": 100}).json()
    with _http(cluster.endpoint("crm")) as http:
        for name in CRM_OBJECTS:
            params = {"limit": 100}
            pages = []
            while True:
                page = http.get(f"/crm/v3/objects/{name}", params=params).raise_for_status().json()
                pages.append(page)
                after = page.get("paging", {}).get("next", {}).get("after")
                if not after:
                    break
                params["after"] = after
            out[f"crm/{name}"] = pages
            out[f"crm/properties/{name}"] = http.get(f"/crm/v3/properties/{name}").raise_for_status().json()
        search = {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "*"}]}]}
        out["crm/search"] = http.post("/crm/v3/objects/companies/search", json={**search, "limit": 100}).json()
        first_company = out["crm/companies"][0]["results"][0]["id"]
        out["crm/associations"] = http.get(f"/crm/v4/objects/companies/{first_company}/associations/contacts").json()
    with _http(cluster.endpoint("erp")) as http:
        for name in ERP_RECORDS:
            out[f"erp/{name}"] = http.get(f"/services/rest/record/v1/{name}", params={"limit": 1000}).json()
        query = {"q": "SELECT id, tranid, total, status FROM transaction ORDER BY id"}
        out["erp/suiteql"] = http.post(
            "/services/rest/query/v1/suiteql", json=query, headers={"Prefer": "transient"}, params={"limit": 1000}
        ).json()
    for e in cluster.endpoints:
        out[f"{e.system}/counts"] = [(h.collection, h.count) for h in COUNTERS[e.system](e.url, e.token)]
    for system, server in cluster.servers.items():
        out[f"{system}/loaded"] = list(server.app.loaded.items())
    out["billing/seq"] = cluster.servers["billing"].app.billing.store.docs.sequence
    out["erp/seq"] = cluster.servers["erp"].app.records.store.sequence
    text = json.dumps(out)
    for e in cluster.endpoints:  # links name the server's own (free, so different) port
        text = text.replace(e.url, f"<{e.system}>")
    return json.loads(text)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_warm_start_serves_exactly_what_a_cold_load_serves(fixtures: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with start(fixtures, tmp_path, store_cache_dir=cache) as cold:
        assert cold.store_cache_status == dict.fromkeys(SYSTEMS, "cold")
        before = served(cold)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f"{s}.{ext}" for s in SYSTEMS for ext in ("json", "lock", "sqlite")
    )
    with start(fixtures, tmp_path, store_cache_dir=cache) as warm:
        assert warm.store_cache_status == dict.fromkeys(SYSTEMS, "warm")
        after = served(warm)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key
    counts = read_manifest(fixtures)["counts"]
    for system in SYSTEMS:
        for collection, n in after[f"{system}/counts"]:
            assert n == counts.get(f"{system}/{collection}", 0), (system, collection)
    # the CRM learned the fixtures' own properties (e.g. hs_* ones not in its catalog) on both paths
    assert after["crm/properties/companies"] == before["crm/properties/companies"]


def test_default_cache_lives_in_the_fixture_folder(fixtures: Path, tmp_path: Path) -> None:
    assert status(fixtures, tmp_path) == dict.fromkeys(SYSTEMS, "cold")
    assert (fixtures / ".store-cache" / "billing.sqlite").is_file()
    assert status(fixtures, tmp_path) == dict.fromkeys(SYSTEMS, "warm")


def test_writes_on_a_warm_server_do_not_reach_the_cache(fixtures: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")
    pristine = _digests(cache)
    with start(fixtures, tmp_path, store_cache_dir=cache) as warm:
        assert warm.store_cache_status == dict.fromkeys(SYSTEMS, "warm")
        with _http(warm.endpoint("billing")) as http:
            created = http.post("/v1/customers", data={"email": "warm@example.com"}).raise_for_status().json()
        with _http(warm.endpoint("crm")) as http:
            company = http.post("/crm/v3/objects/companies", json={"properties": {"name": "Warm Ltd"}})
            company.raise_for_status()
        with _http(warm.endpoint("erp")) as http:
            first = http.get("/services/rest/record/v1/customer", params={"limit": 1}).json()["items"][0]["id"]
            http.patch(f"/services/rest/record/v1/customer/{first}", json={"companyName": "Renamed"}).raise_for_status()
    assert _digests(cache) == pristine
    with start(fixtures, tmp_path, store_cache_dir=cache) as again:
        assert again.store_cache_status == dict.fromkeys(SYSTEMS, "warm")
        with _http(again.endpoint("billing")) as http:
            assert http.get(f"/v1/customers/{created['id']}").status_code == 404
        with _http(again.endpoint("crm")) as http:
            assert http.get(f"/crm/v3/objects/companies/{company.json()['id']}").status_code == 404
        with _http(again.endpoint("erp")) as http:
            record = http.get(f"/services/rest/record/v1/customer/{first}").json()
            assert record["companyName"] != "Renamed"
        # ids handed out after a warm start are the ones a cold start hands out
        with _http(again.endpoint("billing")) as http:
            again_id = http.post("/v1/customers", data={"email": "warm@example.com"}).json()["id"]
    assert again_id == created["id"]


def test_a_changed_manifest_invalidates(fixtures: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")
    manifest = json.loads((fixtures / "manifest.json").read_text())
    manifest["note"] = "edited"
    (fixtures / "manifest.json").write_text(json.dumps(manifest))
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")
    # refreshed by that cold load
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "warm")


def test_an_edited_collection_file_invalidates_only_its_system(fixtures: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")
    path = fixtures / "crm" / "companies.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    first = json.loads(lines[0])
    first["properties"]["name"] = first["properties"]["name"][:-1] + "Z"  # same size, new content
    path.write_text(dumps(first) + "\n" + "".join(lines[1:]), encoding="utf-8")
    assert len(path.read_text(encoding="utf-8")) == len("".join(lines))
    with start(fixtures, tmp_path, store_cache_dir=cache) as cluster:
        assert cluster.store_cache_status == {"billing": "warm", "crm": "cold", "erp": "warm"}
        with _http(cluster.endpoint("crm")) as http:
            assert http.get(f"/crm/v3/objects/companies/{first['id']}").json()["properties"]["name"].endswith("Z")


def test_a_code_change_invalidates(fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")
    real = store_cache.code_version
    monkeypatch.setattr(store_cache, "code_version", lambda modules: real(modules) + "-bumped")
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")


def test_a_partial_or_foreign_store_file_is_not_used(fixtures: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "cold")
    data = (cache / "billing.sqlite").read_bytes()
    (cache / "billing.sqlite").write_bytes(data[: len(data) // 2])  # a copy cut short
    shutil.copyfile(cache / "erp.sqlite", cache / "crm.sqlite")  # a file that is not the stamp's
    with start(fixtures, tmp_path, store_cache_dir=cache) as cluster:
        assert cluster.store_cache_status == {"billing": "cold", "crm": "cold", "erp": "warm"}
        for e in cluster.endpoints:
            counts = read_manifest(fixtures)["counts"]
            for h in COUNTERS[e.system](e.url, e.token):
                assert h.count == counts.get(f"{e.system}/{h.collection}", 0)
    assert status(fixtures, tmp_path, store_cache_dir=cache) == dict.fromkeys(SYSTEMS, "warm")


def test_opt_out_leaves_no_cache(fixtures: Path, tmp_path: Path) -> None:
    assert status(fixtures, tmp_path, store_cache=False) == dict.fromkeys(SYSTEMS, "off")
    assert not (fixtures / store_cache.CACHE_DIRNAME).exists()


def test_an_unusable_cache_folder_falls_back_to_loading(fixtures: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with start(fixtures, tmp_path, store_cache_dir=blocked) as cluster:
        assert cluster.store_cache_status == dict.fromkeys(SYSTEMS, "off")
        counts = read_manifest(fixtures)["counts"]
        billing = cluster.endpoint("billing")
        holdings = {h.collection: h.count for h in COUNTERS["billing"](billing.url, billing.token)}
        assert holdings["invoices"] == counts["billing/invoices"]


_START = """
import sys, time
from pathlib import Path
from sandbox.{system}.app import create_app
app = create_app(Path(sys.argv[1]), Path(sys.argv[2]), store_cache=True, store_cache_dir=Path(sys.argv[3]))
print(app.store_cache, sorted(app.loaded.items()))
"""


@pytest.mark.parametrize("system", SYSTEMS)
def test_two_processes_starting_at_once_load_once(fixtures: Path, tmp_path: Path, system: str) -> None:
    cache = tmp_path / "cache"
    code = _START.format(system=system)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(fixtures), str(tmp_path / f"work{i}"), str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outputs.append(out.split(" ", 1))
    assert sorted(status for status, _ in outputs) == ["cold", "warm"]
    assert outputs[0][1] == outputs[1][1]
    assert not list(cache.glob("*.tmp-*"))


def test_crm_properties_learned_from_the_fixtures_survive_a_warm_start(fixtures: Path, tmp_path: Path) -> None:
    from sandbox.crm.app import create_app

    path = fixtures / "crm" / "companies.jsonl"
    companies = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for i, company in enumerate(companies):
        company["properties"].update(zz_tier=f"tier-{i % 3}", aa_region="emea")
    path.write_text("".join(dumps(c) + "\n" for c in companies), encoding="utf-8")
    apps = [
        create_app(fixtures, tmp_path / f"work{i}", store_cache=True, store_cache_dir=tmp_path / "cache")
        for i in range(2)
    ]
    assert [app.store_cache for app in apps] == ["cold", "warm"]
    cold, warm = (app.crm.catalog for app in apps)
    assert warm.as_json("companies") == cold.as_json("companies")
    assert warm.names("companies")[-2:] == ["aa_region", "zz_tier"]
    assert warm.learned() == cold.learned()
    assert cold.learned()["companies"] == ["aa_region", "zz_tier"]


def _serve_once(fixtures: Path, data_dir: Path, *flags: str) -> None:
    """``q2c sandbox serve`` until it is ready, then SIGTERM."""
    command = [sys.executable, "-m", "pipelines.cli", "--data-dir", str(data_dir), "sandbox", "serve"]
    command += ["--fixtures", str(fixtures), "--billing-port", "0", "--crm-port", "0", "--erp-port", "0", *flags]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in proc.stdout:
            output.append(line)
            if "serving until" in line:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_cli_serve_uses_the_cache_unless_told_not_to(fixtures: Path, tmp_path: Path) -> None:
    _serve_once(fixtures, tmp_path / "data", "--no-store-cache")
    assert not (fixtures / store_cache.CACHE_DIRNAME).exists()
    _serve_once(fixtures, tmp_path / "data")
    stamps = sorted(p.name for p in (fixtures / store_cache.CACHE_DIRNAME).glob("*.json"))
    assert stamps == ["billing.json", "crm.json", "erp.json"]
