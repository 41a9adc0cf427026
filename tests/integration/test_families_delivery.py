"""One publication to 5,000 subscribed families on real PostgreSQL, Redis and Celery workers,
with the families' worker killed midway: every subscriber receives the update exactly once.

The recording adapters stand in for the providers: text messages are appended to a file as
JSON lines, emails are written to files by Django's file backend. A send repeated after a
kill carries the same idempotency key (Message-ID for email), as a provider or a mail client
would see it; what each family receives is counted by distinct key.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict

from tests.integration.processes import (
    REQUEUE_WAIT,
    STALE_CLAIM_SECONDS,
    STARTUP_LIMIT,
    Stack,
    needs_real_services,
)

pytestmark = needs_real_services("the families delivery test")

EMAILS, TEXTS = 4000, 1000
SUBSCRIBERS = EMAILS + TEXTS
SEED = "tests/integration/families_seed.py"


def sent(stack: Stack, update: int) -> int:
    return stack.sql(
        "SELECT count(*) FROM comms_dispatch WHERE update_id = %s AND status = 'sent' "
        "AND subscriber_id IS NOT NULL",
        (update,),
    )[0][0]


def received_emails(stack: Stack) -> dict[str, set[str]]:
    """Recipient -> the Message-IDs delivered to it, from the file backend's files."""
    received: dict[str, set[str]] = defaultdict(set)
    for path in (stack.dir / "mail").glob("*.log"):
        for message in path.read_text().split("-" * 79):
            to = re.search(r"^To: (.+)$", message, re.M)
            key = re.search(r"^Message-ID: (.+)$", message, re.M)
            if to and key:
                received[to.group(1).strip()].add(key.group(1).strip())
    return received


def received_texts(stack: Stack) -> tuple[dict[str, set[str]], int]:
    """Phone -> the idempotency keys texted to it, and the number of provider calls."""
    received: dict[str, set[str]] = defaultdict(set)
    calls = 0
    if stack.sms_file.exists():
        for line in stack.sms_file.read_text().splitlines():
            call = json.loads(line)
            received[call["to"]].add(call["key"])
            calls += 1
    return received, calls


def test_five_thousand_families_each_receive_one_update_through_a_worker_kill(tmp_path, stack):
    (stack.dir / "mail").mkdir()
    stack.env["EMAIL_URL"] = f"filemail:///{stack.dir / 'mail'}"
    # The batch the killed worker held is queued again once its rows are this old.
    stack.env["OUTBOX_MISSED_HANDOFF_SECONDS"] = "5"
    stack.start_worker("worker")
    families = stack.start_worker("families", queue="families")
    stack.start_beat("beat")
    stack.wait_for_engine()

    started = time.monotonic()
    seeded = stack.run_script(SEED, f"--email={EMAILS}", f"--sms={TEXTS}")
    update = seeded["update"]
    published_s = time.monotonic() - started

    stack.wait_until(lambda: sent(stack, update) >= 800, "800 families were sent the update", 120)
    stack.kill(families)
    sent_at_kill = sent(stack, update)
    stack.start_worker("families-2", queue="families")
    settled_s = stack.wait_until(
        lambda: sent(stack, update) == SUBSCRIBERS,
        "every family was sent the update",
        STALE_CLAIM_SECONDS + REQUEUE_WAIT + STARTUP_LIMIT + 60,
    )

    statuses = dict(
        stack.sql(
            "SELECT status, count(*) FROM comms_dispatch WHERE subscriber_id IS NOT NULL "
            "GROUP BY status"
        )
    )
    retried = stack.sql(
        "SELECT count(*) FROM comms_dispatch WHERE subscriber_id IS NOT NULL AND attempts > 1"
    )[0][0]
    emails = received_emails(stack)
    texts, text_calls = received_texts(stack)
    print(
        json.dumps(
            {
                "subscribers": SUBSCRIBERS,
                "publish_and_seed_s": round(published_s, 2),
                "sent_at_kill": sent_at_kill,
                "all_sent_after_kill_s": round(settled_s, 2),
                "rows_retried": retried,
                "text_provider_calls": text_calls,
            }
        )
    )

    assert 0 < sent_at_kill < SUBSCRIBERS, "the kill came midway"
    assert statuses == {"sent": SUBSCRIBERS}, "one row per family, all sent, none for the drill"
    assert set(emails) == {a for a in seeded["addresses"] if "@" in a}
    assert set(texts) == {a for a in seeded["addresses"] if a.startswith("+")}
    assert {len(keys) for keys in emails.values()} == {1}, "an email was sent twice"
    assert {len(keys) for keys in texts.values()} == {1}, "a text was sent twice"
    # A repeated provider call happens only for a row the kill caught mid-send.
    assert text_calls - TEXTS <= retried
    assert not stack.sql(
        "SELECT 1 FROM comms_dispatch WHERE update_id = %s", (seeded["exercise_update"],)
    )
