"""q2c's canonical data contracts in Python — NOT dbt models.

Posting payloads (invoice, credit memo, payment, journal entry) that the reverse ETL validates before
sending, the exception-type catalog, and shared enums. A test checks them against the dbt contracts.
"""
