"""Fixtures shared by the incident tests."""

import pytest
from channels.db import DatabaseSyncToAsync
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, int]]:
    """Each database call a socket makes, by name, with its number of queries."""
    made: list[tuple[str, int]] = []
    original = DatabaseSyncToAsync.thread_handler

    def counting(self, loop, *args, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            result = original(self, loop, *args, **kwargs)
        made.append((getattr(self.func, "__name__", repr(self.func)), len(captured)))
        return result

    monkeypatch.setattr(DatabaseSyncToAsync, "thread_handler", counting)
    return made
