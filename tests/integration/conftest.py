"""Each test with real processes gets its own PostgreSQL database, copied from a template
migrated once per module, and its own redis-server; see ``processes.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.integration.processes import PREFIX, Stack, migrate


def _admin():
    import psycopg2

    url = urlsplit(os.environ["DATABASE_URL"])
    admin = psycopg2.connect(urlunsplit(url._replace(path="/postgres")))
    admin.autocommit = True
    return admin


def _database_url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def _drop(admin, name: str) -> None:
    from psycopg2 import sql

    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="module")
def template_database() -> Iterator[str]:
    """One migrated database that each test copies, so migrations run once per module."""
    from psycopg2 import sql

    admin = _admin()
    name = f"{PREFIX}_template"
    _drop(admin, name)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        migrate(_database_url(name))
        yield name
    finally:
        _drop(admin, name)
        admin.close()


@pytest.fixture
def stack(tmp_path, template_database, request) -> Iterator[Stack]:
    from psycopg2 import sql

    admin = _admin()
    name = f"{PREFIX}_{request.node.name[5:25]}"
    _drop(admin, name)
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    stack = None
    try:
        stack = Stack(tmp_path, _database_url(name))
        stack.start_redis()
        yield stack
    finally:
        if stack is not None:
            stack.stop_all()
        _drop(admin, name)
        admin.close()
