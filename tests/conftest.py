"""Shared fixtures: one district with a person in every role, and a second district."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from incidents.models import District, Role, School, System, User
from tests.factories import DistrictFactory, SchoolFactory, SystemFactory, UserFactory

# Property-based tests: CI runs the same examples every time (derandomize, no example
# database) so a red build is reproducible; locally, examples vary and failures are kept in
# .hypothesis/ to be replayed first. Either way the whole property suite stays near a minute
# on two cores. Pages render in tens of milliseconds but a slow shared machine must not fail a
# test on timing, hence no deadline.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


@dataclass
class DistrictSetup:
    district: District
    schools: list[School]
    systems: list[System]
    cio: User
    comms: User
    academics: User
    legal: User
    technical: User
    board: User
    principal: User
    translator: User
    facilitator: User

    def by_role(self, role: str) -> User:
        return {
            Role.CIO: self.cio,
            Role.COMMUNICATIONS: self.comms,
            Role.ACADEMICS: self.academics,
            Role.LEGAL: self.legal,
            Role.TECHNICAL: self.technical,
            Role.BOARD_LIAISON: self.board,
            Role.PRINCIPAL: self.principal,
            Role.TRANSLATOR: self.translator,
            Role.FACILITATOR: self.facilitator,
        }[role]


def make_district(prefix: str, time_zone: str) -> DistrictSetup:
    district = DistrictFactory(name=f"{prefix.title()} District", slug=prefix, time_zone=time_zone)
    schools = [
        SchoolFactory(district=district, name=f"{prefix.title()} School {i}") for i in (1, 2, 3)
    ]
    systems = [
        SystemFactory(district=district, name=f"{prefix.title()} SIS", category="sis"),
        SystemFactory(district=district, name=f"{prefix.title()} LMS", category="lms"),
    ]

    def person(role: str, **extra) -> User:
        return UserFactory(username=f"{prefix}-{role}", district=district, roles=[role], **extra)

    return DistrictSetup(
        district=district,
        schools=schools,
        systems=systems,
        cio=person(Role.CIO),
        comms=person(Role.COMMUNICATIONS),
        academics=person(Role.ACADEMICS),
        legal=person(Role.LEGAL),
        technical=person(Role.TECHNICAL),
        board=person(Role.BOARD_LIAISON),
        principal=person(Role.PRINCIPAL, schools=schools[:2]),
        translator=person(Role.TRANSLATOR),
        facilitator=person(Role.FACILITATOR),
    )


# Where the ``clock`` fixture stops time: a Monday afternoon in UTC.
CLOCK_START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """Time stands still at ``CLOCK_START`` until the test moves it."""
    with time_machine.travel(CLOCK_START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def riverbend(db) -> DistrictSetup:
    return make_district("riverbend", "America/Chicago")


@pytest.fixture
def lakeshore(db) -> DistrictSetup:
    return make_district("lakeshore", "America/New_York")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing every test user's password with PBKDF2 costs a second per district."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_cache_generation = itertools.count()
_cache_run = f"{os.getpid()}-{time.time_ns()}"


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """Each test its own key space in the configured cache (Redis or local memory).

    Sign-in failure counts, used authenticator codes, the last push of each incident and the
    subscription page's sign-up counts live in the caches and would carry from one test to
    the next; a fresh key prefix isolates them without flushing a Redis database that the
    channel layer and the Celery broker share.
    The incident page's panels, kept in this process's memory, are cleared: a test's
    database may reuse an earlier test's incident ids.
    """
    from django.core.cache import caches

    prefix = f"test-{_cache_run}-{next(_cache_generation)}"
    default = dict(settings.CACHES["default"], KEY_PREFIX=prefix)
    throttle = dict(settings.CACHES["throttle"], KEY_PREFIX=prefix)
    settings.CACHES = {**settings.CACHES, "default": default, "throttle": throttle}
    caches["panels"].clear()


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks queued in tests run inline instead of piling up in a broker nobody reads."""
    from incident_console.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def sms_outbox():
    """The recording SMS fake, emptied before and after the test."""
    from comms.delivery import RecordingSmsProvider

    RecordingSmsProvider.reset()
    yield RecordingSmsProvider
    RecordingSmsProvider.reset()


@pytest.fixture(autouse=True)
def broker_reachable():
    """Each test starts with the broker taken as reachable, whatever a test before it made
    fail."""
    from incident_console import broker

    broker.reset()
    yield
    broker.reset()
