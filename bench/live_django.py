"""The Django side of the live push benchmark, run by ``bench/live.py`` in subprocesses
pointed at the benchmark's database; each prints one JSON object.

    python bench/live_django.py seed INCIDENTS DRAFTS_PER_INCIDENT
    python bench/live_django.py cost INCIDENT_ID '[DRAFT_ID, ...]'
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from unittest import mock

from supervisor import setup_django

AUDIENCE_USERS = (
    # (username, roles, audience the consumer will put them in)
    ("bench-owner", ("cio",), "owner"),
    ("bench-comms", ("communications",), "communications"),
    ("bench-drafter", ("technical",), "drafter"),
    ("bench-cio", ("cio",), "cio"),
    ("bench-legal", ("legal",), "legal"),
    ("bench-academics", ("academics",), "academics"),
    ("bench-technical", ("technical",), "technical"),
)


def role_seed(incidents: int, drafts_per_incident: int) -> None:
    """One district, seven people, ``incidents`` open incidents each with drafts in review;
    print the sessions, the ids and each incident's channel-layer groups as JSON."""
    setup_django()
    from unittest import mock

    from django.conf import settings
    from django.test import Client

    from comms import drafters, drafts
    from comms.models import Draft
    from console import page
    from console.live import incident_group
    from incidents.models import District, Incident, RoleGrant, User
    from incidents.services import incident_open, incident_role_assign

    district = District.objects.create(
        name="Bench District", slug="bench", time_zone="America/Chicago"
    )
    people = {}
    for username, roles, _ in AUDIENCE_USERS:
        user = User.objects.create_user(username=username, district=district)
        for role in roles:
            RoleGrant.objects.create(user=user, role=role)
        people[username] = user
    owner, lead = people["bench-owner"], people["bench-comms"]
    made = []
    # Nobody listens while seeding: skip rendering a push for every seeded row.
    with mock.patch("console.live.hand_off"), mock.patch("console.live.close_sockets"):
        for k in range(incidents):
            incident = incident_open(
                by=owner, title=f"Bench live {k}", kind=Incident.Kind.SIS, severity=2,
                all_schools=True,
            )  # fmt: skip
            incident_role_assign(incident=incident, function="communications", user=lead, by=owner)
            drafters.drafter_name(incident=incident, by=lead, user=people["bench-drafter"])
            ids = []
            for _ in range(drafts_per_incident):
                draft = drafts.draft_create(
                    incident=incident, by=lead, audience="staff", channel="email"
                )
                drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
                ids.append(draft.pk)
            states = set(Draft.objects.filter(pk__in=ids).values_list("state", flat=True))
            assert states <= {Draft.State.IN_REVIEW}, states
            # The channel-layer group of each audience, in the order of AUDIENCE_USERS.
            groups = [incident_group(incident.pk, audience) for _, _, audience in AUDIENCE_USERS]
            made.append({"id": incident.pk, "drafts": ids, "groups": groups})
    sessions = {}
    for username, _, audience in AUDIENCE_USERS:
        # A real session row in the database, exactly what signing in leaves behind.
        client = Client()
        client.force_login(people[username])
        sessions[audience] = client.cookies[settings.SESSION_COOKIE_NAME].value
    incident = Incident.objects.get(pk=made[0]["id"])
    drafter_ids = set(incident.drafters.values_list("user_id", flat=True))
    audiences = {
        page.audience_of(people[u], incident, is_drafter=people[u].pk in drafter_ids)
        for u, _, _ in AUDIENCE_USERS
    }
    assert audiences == set(page.AUDIENCES), audiences
    print(
        json.dumps(
            {
                "incidents": made,
                "sessions": sessions,
                "cookie": settings.SESSION_COOKIE_NAME,
                "comms_session": sessions["communications"],
            }
        )
    )


def role_cost(incident_id: int, draft_ids: list[int]) -> None:
    """Server-side work behind one approval, in this process: the service with its
    after-commit hand-off of the push, and the push's rendering alone, with query counts."""
    setup_django()
    from asgiref.sync import sync_to_async
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from comms import drafts
    from comms.models import Draft
    from console import live, page
    from incidents import selectors
    from incidents.models import User

    lead = User.objects.get(username="bench-comms")

    def timed(work) -> tuple[float, int]:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            work()
            elapsed = time.perf_counter() - started
        return elapsed * 1000, len(captured.captured_queries)

    def render_only(incident_id: int) -> None:
        """What publish() renders: the shared data once, then each audience's panels."""
        incident = selectors.incident_detail_queryset().get(pk=incident_id)
        page.pushed_panels(incident, timezone.now())

    def dashboards_only(incident_id: int) -> None:
        """The district dashboards' blocks that publish() renders after the incident page."""
        incident = selectors.incident_detail_queryset().get(pk=incident_id)
        live.district_messages(incident, from_sequence=0, now=timezone.now())

    def publish_now(incident_id: int) -> None:
        # Forget the last push, so publish() renders and sends as after a fresh change.
        cache.delete(live.pushed_key(incident_id))
        live.publish(incident_id, from_sequence=0)

    def shared_only(incident_id: int) -> None:
        incident = selectors.incident_detail_queryset().get(pk=incident_id)
        page.shared_context(incident, timezone.now(), scorecard=True)

    # Which of the render's queries repeat across the audiences.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        render_only(incident_id)
    sqls = [q["sql"] for q in captured.captured_queries]
    repeats = {"queries": len(sqls), "distinct": len(set(sqls))}

    def staged_push(incident_id: int, from_sequence: int) -> dict[str, float]:
        """publish() of one approval's change as the worker runs it, timed by stage (ms):
        loading the incident and what changed, rendering the incident page's panels, sending
        them, rendering the district dashboards' blocks, sending those."""
        marks: list[float] = []

        def stamped(function):
            def wrapper(*args, **kwargs):
                marks.append(time.perf_counter())
                try:
                    return function(*args, **kwargs)
                finally:
                    marks.append(time.perf_counter())

            return wrapper

        cache.delete(live.pushed_key(incident_id))
        with (
            mock.patch.object(live.page, "pushed_panels", stamped(page.pushed_panels)),
            mock.patch.object(live, "send_all", stamped(live.send_all)),
            mock.patch.object(live, "district_messages", stamped(live.district_messages)),
        ):
            started = time.perf_counter()
            live.publish(incident_id, from_sequence=from_sequence)
            ended = time.perf_counter()
        # Marks: panels in/out, send in/out, dashboards in/out (rendered before the second
        # send, as its argument), send in/out.
        panels_in, panels_out, send_in, send_out, boards_in, boards_out, send2_in, send2_out = marks
        return {
            "load": (panels_in - started) * 1000,
            "render_panels": (panels_out - panels_in) * 1000,
            "send_panels": (send_out - send_in) * 1000,
            "render_dashboards": (boards_out - boards_in) * 1000,
            "send_dashboards": (send2_out - send2_in) * 1000,
            "total": (ended - started) * 1000,
        }

    approve, publish, render, shared, dashboards, stages = [], [], [], [], [], []

    def measure_all() -> None:
        timed(lambda: render_only(incident_id))  # template loading and the like, once
        for draft_id in draft_ids:
            draft = Draft.objects.get(pk=draft_id)
            before = selectors.incident_detail_queryset().get(pk=incident_id).sequence
            approve.append(
                timed(lambda d=draft: drafts.draft_approve(draft=d, by=lead, expected_revision=1))
            )
            stages.append(staged_push(incident_id, before))
            publish.append(timed(lambda: publish_now(incident_id)))
            render.append(timed(lambda: render_only(incident_id)))
            dashboards.append(timed(lambda: dashboards_only(incident_id)))
            shared.append(timed(lambda: shared_only(incident_id)))

    async def as_in_the_server() -> None:
        # A sync thread under a running loop, as a view runs in the ASGI server: publish()'s
        # async_to_sync then sends on that loop and its Redis connection, not a new one each.
        await sync_to_async(measure_all)()

    asyncio.run(as_in_the_server())

    def summary(rows: list[tuple[float, int]]) -> dict:
        return {
            "ms_p50": round(statistics.median(r[0] for r in rows), 1),
            "ms_max": round(max(r[0] for r in rows), 1),
            "queries": round(statistics.median(r[1] for r in rows)),
        }

    print(
        json.dumps(
            {
                "approve_with_push": summary(approve),
                "publish": summary(publish),
                "approval_push_ms_p50": {
                    stage: round(statistics.median(row[stage] for row in stages), 1)
                    for stage in stages[0]
                },
                "render_only": summary(render),
                "shared_data": summary(shared),
                "dashboards": summary(dashboards),
                "render_query_repeats": repeats,
                "samples": len(draft_ids),
                "audiences": len(page.AUDIENCES),
                "panels": len(page.PANELS),
            }
        )
    )


def main() -> None:
    if sys.argv[1] == "seed":
        role_seed(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "cost":
        role_cost(int(sys.argv[2]), json.loads(sys.argv[3]))
    else:
        sys.exit(f"unknown role {sys.argv[1]!r}")


if __name__ == "__main__":
    main()
