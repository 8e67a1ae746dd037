"""CSV for people to open in a spreadsheet: cells that a spreadsheet would run as a formula
(OWASP "CSV injection": text starting with ``= + - @``, tab or carriage return) are prefixed
with an apostrophe, so a mail subject like ``=HYPERLINK(...)`` stays text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Numbers pass as they are; text that a spreadsheet would evaluate gets a ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_to_csv(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> str:
    """``rows`` (dicts) as CSV text with a header line, every cell made safe."""
    rows = list(rows)
    columns = columns or (list(rows[0]) if rows else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return buffer.getvalue()
