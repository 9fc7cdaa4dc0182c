"""dlt sources for the three systems: ``crm`` (HubSpot), ``billing`` (Stripe), ``erp`` (NetSuite).

Shared by all three: :mod:`pipelines.sources.raw_tables` (how an API object becomes a raw row, and
what is set aside) and :mod:`pipelines.sources.http_client` (retries and request counts).
"""
