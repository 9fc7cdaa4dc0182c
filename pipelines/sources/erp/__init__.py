"""The ERP source: NetSuite read through SuiteQL into ``raw_erp`` (tables, keys and cursors: README.md)."""

from __future__ import annotations

import dlt

from pipelines.sources.erp import helpers, settings
from pipelines.sources.http_client import CountingClient, RequestStats
from pipelines.sources.load_seq import next_load_seq, now_us

TOKEN_ARGUMENT = "access_token"


@dlt.source(name="erp")
def source(
    base_url: str = settings.DEFAULT_BASE_URL,
    access_token: str = settings.DEFAULT_ACCESS_TOKEN,
    client: CountingClient | None = None,
    account_id: str | None = None,
    timezone: str = settings.DEFAULT_TIMEZONE,
    read_period_close: bool = True,
    page_size: int = settings.PAGE_SIZE,
):
    """NetSuite reference records, customers and transactions (with lines and payment links).

    ``base_url`` wins; when it is empty, ``account_id`` gives the real host. ``timezone`` is the integration
    user's time zone preference (SuiteQL's TO_CHAR renders in it; UTC in the sandbox).
    """
    session = (client or CountingClient(RequestStats())).session
    page_size = max(1, min(page_size, settings.PAGE_SIZE))  # SuiteQL answers limit > 1000 with an error
    sq = helpers.SuiteQL(helpers.resolve_base_url(base_url, account_id), access_token, session, timezone, page_size)
    seq = next_load_seq(settings.TABLE_NAMES, now_us())  # every row this run writes carries it
    resources = []
    for spec in settings.REFERENCE_TABLES:
        reader = helpers.change_reader(sq, spec, incremental=False)
        resources += [reader, reader | helpers.table_writer(spec, seq)]
        if spec.name == "accountingperiod" and read_period_close:
            resources.append(reader | helpers.period_close_writer(sq, seq))
    customers = helpers.change_reader(sq, settings.CUSTOMER, incremental=True)
    resources += [customers, customers | helpers.table_writer(settings.CUSTOMER, seq)]
    transactions = helpers.change_reader(
        sq, settings.TRANSACTION, incremental=True, children=settings.TRANSACTION_CHILDREN
    )
    resources += [transactions, transactions | helpers.table_writer(settings.TRANSACTION, seq)]
    for child, parent_column in settings.TRANSACTION_CHILDREN:
        resources.append(transactions | helpers.children_writer(sq, child, parent_column, seq))
    return resources
