"""Ops figures for the back office, computed in SQL over indexed columns."""

from core.stats.figures import Durations
from core.stats.report import OpsReport, ops_report

__all__ = ["Durations", "OpsReport", "ops_report"]
