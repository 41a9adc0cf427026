"""Locust users for the load run (``bench/load.py`` starts locust with this file).

Each dashboard has its own user class, signed in with a real session of the seeded district's
person who reads it, GETting it at a constant rate; ``/health/live`` (a trivial view) is read
at the same total rate as the baseline. Redirects are not followed: a 302 (to the sign-in
page) counts as a failure, as does any status but 200.

The plan comes from the JSON file named by ``LOAD_PLAN``: the session cookie's name, each
user's session key, the incident pages to read, users per dashboard and each user's rate.
Every request's time is also written, unrounded, to the file named by ``LOAD_RAW`` when
locust quits (locust's own percentiles are rounded to two significant digits).
"""

from __future__ import annotations

import itertools
import json
import os
import time

from locust import HttpUser, constant_throughput, events, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
RAW: list[tuple[str, float, float, bool]] = []  # (name, started, milliseconds, failed)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, **kwargs):
    RAW.append((name, time.time() - response_time / 1000, response_time, exception is not None))


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["LOAD_RAW"], "w") as out:
        json.dump(RAW, out)


class Reader(HttpUser):
    """One person reading one page again and again."""

    abstract = True
    wait_time = constant_throughput(PLAN["rate_per_user"])
    fixed_count = PLAN["users_per_page"]
    page = ""  # the name the page's numbers are reported under
    username: str | None = None  # whose session; None reads signed out
    paths: list[str] = []

    def on_start(self) -> None:
        session = PLAN["sessions"].get(self.username or "")
        self.headers = {"Cookie": f"{PLAN['cookie']}={session}"} if session else {}
        self.next_path = itertools.cycle(self.paths)

    @task
    def read(self) -> None:
        with self.client.get(
            next(self.next_path),
            name=self.page,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


def reader(page: str, username: str | None, paths: list[str], count: int | None = None) -> type:
    attributes = {"page": page, "username": username, "paths": paths}
    if count is not None:
        attributes["fixed_count"] = count
    return type("".join(filter(str.isalnum, page.title())), (Reader,), attributes)


INCIDENT_PAGES = [f"/incidents/{pk}/" for pk in PLAN["incident_pages"]]
IncidentList = reader("incident list", "rb-cio", ["/incidents/"])
Communications = reader("communications", "rb-comms", ["/comms/"])
Legal = reader("legal", "rb-legal", ["/comms/legal/"])
Academics = reader("academics", "rb-academics", ["/incidents/academics/"])
Briefing = reader("briefing", "rb-board", ["/incidents/briefing/"])
PrincipalGuidance = reader("principal guidance", "rb-principal", ["/incidents/guidance/"])
IncidentPage = reader("incident page", "rb-cio", INCIDENT_PAGES)
StatusPage = reader("status page", None, ["/status/riverbend/"])
# The baseline: as many requests per second as all the dashboards together.
HealthLive = reader("/health/live", None, ["/health/live"], PLAN["users_per_page"] * 8)
