"""Ops figures for the back office, computed in SQL over indexed columns. The names below
load on first use: ``health`` and ``outbox status`` read ``core.stats.queues`` alone."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.stats.figures import Durations
    from core.stats.report import OpsReport, ops_report

_HOMES = {"Durations": "figures", "OpsReport": "report", "ops_report": "report"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = ["Durations", "OpsReport", "ops_report"]
