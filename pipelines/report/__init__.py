"""``q2c report``: one self-contained HTML page for controllers, read from the snapshot and the ops store."""

from pipelines.report.page import render_report, write_report

__all__ = ["render_report", "write_report"]
