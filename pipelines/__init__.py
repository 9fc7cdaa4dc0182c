"""q2c's pipelines: the dlt sources, the run orchestration and the ``q2c`` command line."""
