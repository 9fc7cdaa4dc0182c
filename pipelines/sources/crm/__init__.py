"""CRM source: HubSpot CRM v3 objects (incremental search), archived records, merges and v4 associations.

Tables, keys, cursors and secrets: see this folder's README.md; the logic lives in ``helpers.py``.
"""

from __future__ import annotations

import dlt

from pipelines.sources.crm.helpers import api_client, archived_resources, records_resource, with_extra_properties
from pipelines.sources.crm.settings import DEFAULT_BASE_URL, SANDBOX_TOKEN, SOURCE_NAME
from pipelines.sources.http_client import CountingClient, RequestStats

TOKEN_ARGUMENT = "access_token"


@dlt.source(name=SOURCE_NAME)
def source(
    base_url: str = DEFAULT_BASE_URL,
    access_token: str = SANDBOX_TOKEN,
    client: CountingClient | None = None,
    extra_properties: dict | None = None,
):
    """HubSpot's CRM at ``base_url`` (the sandbox by default), read with a private-app ``access_token``.

    ``extra_properties`` (``{"companies": ["annualrevenue"], ...}``) requests more properties than settings.py
    lists; a type whose property list changed is read again in full on the next run.
    """
    session = (client or CountingClient(RequestStats())).session
    api = api_client(base_url.rstrip("/"), access_token, session)
    objects = with_extra_properties(extra_properties)
    return [
        *(records_resource(api, spec) for spec in objects.values()),
        *archived_resources(base_url.rstrip("/"), access_token, session, objects),
    ]
