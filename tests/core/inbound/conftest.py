"""The ``inbox`` fixture: ingest one message per transaction and look at the result."""

from __future__ import annotations

import pytest

from tests.support.inbox import Inbox


@pytest.fixture
def inbox(engine, clock):
    return Inbox(engine, clock)
