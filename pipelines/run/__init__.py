"""``q2c run``: ingest → build → snapshot → push under one lock, recorded in the ops store.

Modules: ``lock`` (one run at a time), ``history`` (runs and their steps in ``ops.sqlite``), ``exit_codes``
(what the scheduler sees), ``logs`` (human or JSON lines, secrets redacted), ``snapshot`` (the analysts'
read-only copy of the marts), ``steps`` (each step as a small callable) and ``orchestrate`` (the run).
"""
