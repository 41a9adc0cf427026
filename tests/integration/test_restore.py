"""A backup that has been restored: ``pg_dump`` of a database with an active incident,
published updates and pending deadlines, restored into a new database as the README's
restore steps say, serves the same pages, and fires each pending deadline once.

The first stack runs only the web server (no worker or beat), so nothing falls due, fires or
is sent before the dump. The restored stack gets its own empty redis-server and runs web,
worker and beat, as after a restore onto a new server.
"""

from __future__ import annotations

import re
import subprocess

from bench.supervisor import create_database, drop_database
from tests.integration.processes import PREFIX, Burst, Stack, migrate, needs_real_services

pytestmark = needs_real_services("the restore test")

SEED = "tests/integration/resilience_seed.py"


def pages(stack: Stack, seeded: dict) -> dict[str, tuple[int, str, list[str]]]:
    """For each page, as the incident's owner: the status, the incident's sequence number as
    the page shows it, and the timeline entries it shows, in order."""
    incident, cookie = seeded["incident"], f"{seeded['cookie']}={seeded['sessions']['owner']}"
    seen = {}
    for path, sequence in [
        (
            f"/incidents/{incident}/",
            rf'data-incident="{incident}" data-ws-path="[^"]+" data-sequence="(\d+)"',
        ),
        ("/incidents/", rf'data-incident="{incident}" data-seq="(\d+)"'),
    ]:
        status, _, body = stack.http("GET", path, cookie=cookie)
        text = body.decode()
        found = re.search(sequence, text)
        entries = re.findall(r'<span class="timeline__text">([^<]*)</span>', text)
        seen[path] = (status, found[1] if found else "", entries)
    return seen


def test_a_dump_restored_into_a_new_database_serves_and_fires_as_before(stack, tmp_path):
    seeded = stack.run_script(
        SEED, "--drafts=3", "--publish=2", "--deadlines=20", "--due-in=25", "--spread=5"
    )
    burst = Burst.of(seeded["burst"])
    stack.start_web("web")
    before = pages(stack, seeded)
    status, sequence, entries = before[f"/incidents/{seeded['incident']}/"]
    assert status == 200 and sequence, before
    assert sum(entry.startswith("Update to staff published") for entry in entries) == 2, entries
    stack.stop_all()

    dump = tmp_path / "console.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(dump), stack.database_url], check=True
    )
    name = f"{PREFIX}_restored"
    restored_url = create_database(name)
    restored = None
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored_url, str(dump)],
            check=True,
        )
        migrate(restored_url)
        restored = Stack(tmp_path / "restored", restored_url)
        restored.start_redis()
        restored.start_web("web")
        restored.start_worker("worker")
        restored.start_beat("beat")

        assert pages(restored, seeded) == before
        pending = restored.sql(
            "SELECT count(*) FROM comms_deadline WHERE id = ANY(%s) AND status = 'pending'",
            (burst.deadlines,),
        )[0][0]
        assert pending > 0, "the deadlines fired before the restored stack started"
        restored.wait_until(restored.settled(burst), "the restored deadlines fired", 120, burst)
        restored.assert_each_fired_once_and_texted_once(burst)
    finally:
        if restored is not None:
            restored.stop_all()
            restored.db.close()
        drop_database(name)
