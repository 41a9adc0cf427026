"""Each test with real processes gets its own PostgreSQL database, copied from a template
migrated once per module, and its own redis-server; see ``processes.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.supervisor import create_database, drop_database
from tests.integration.processes import PREFIX, Stack, migrate


@pytest.fixture(scope="module")
def template_database() -> Iterator[str]:
    """One migrated database that each test copies, so migrations run once per module."""
    name = f"{PREFIX}_template"
    url = create_database(name)
    try:
        migrate(url)
        yield name
    finally:
        drop_database(name)


@pytest.fixture
def stack(tmp_path, template_database, request) -> Iterator[Stack]:
    name = f"{PREFIX}_{request.node.name[5:25]}"
    url = create_database(name, template=template_database)
    stack = None
    try:
        stack = Stack(tmp_path, url)
        stack.start_redis()
        yield stack
    finally:
        if stack is not None:
            stack.stop_all()
        drop_database(name)
