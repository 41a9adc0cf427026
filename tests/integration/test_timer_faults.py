"""The timer engine under faults, with real processes: two beats at once, a worker killed
with SIGKILL in the middle of a burst, Redis restarted with its queues lost, and Redis down
for longer than Celery's default limit of reconnection attempts.

Each test gets its own PostgreSQL database (copied from one migrated template), its own
redis-server on a free port, and real ``celery worker`` (concurrency 2) and ``celery beat``
processes pointed at them. ``timer_faults_seed.py`` opens incidents in a subprocess and moves
a burst of their deadlines to a few seconds from the database's ``now()``. The promises are
then checked from the database and from the SMS record file, to which the recording provider
appends one line per call made by any worker process:

- every deadline of the burst fired, exactly once (one timeline row each), and nothing in the
  database is left pending past its due time;
- every text message the firings owe is ``sent``, and the provider was called once per
  idempotency key: each key appears exactly once in the record file.

Waits poll the database against a time limit; every process started is killed by process
group in ``finally``.
"""

from __future__ import annotations

from tests.integration.processes import REQUEUE_WAIT, STALE_CLAIM_SECONDS, needs_real_services

pytestmark = needs_real_services("the timer fault tests")


def test_two_beats_at_once_fire_every_deadline_once(stack):
    stack.start_worker("worker")
    beats = [stack.start_beat("beat-1"), stack.start_beat("beat-2")]
    stack.wait_for_engine()
    # Both beats must really be sweeping, each in a loop of its own.
    stack.wait_until(
        lambda: all(stack.log_count(b, "the timer loop is running") for b in ("beat-1", "beat-2")),
        "both beats started their timer loops",
        30,
    )
    burst = stack.seed(deadlines=100, due_in=2, spread=2)

    stack.wait_until(stack.settled(burst), "the burst fired and texted", 60, burst)

    assert [b.poll() for b in beats] == [None, None], "a beat process died"
    stack.assert_each_fired_once_and_texted_once(burst)


def test_worker_killed_mid_burst_loses_and_doubles_nothing(stack):
    worker = stack.start_worker("worker-1")
    stack.start_beat("beat")
    stack.wait_for_engine()
    burst = stack.seed(deadlines=100, due_in=2, spread=1)
    stack.wait_until(lambda: stack.fired(burst) >= 10, "the burst began firing", 30, burst)

    stack.kill(worker)
    fired_at_kill = stack.fired(burst)
    sent_at_kill = list(stack.texts(burst).values()).count("sent")
    stack.start_worker("worker-2")
    stack.wait_until(
        stack.settled(burst),
        "the burst fired and texted after the restart",
        STALE_CLAIM_SECONDS + REQUEUE_WAIT + 30,
        burst,
    )

    retried = stack.sql("SELECT count(*) FROM comms_notification WHERE attempts > 1")[0][0]
    print(
        f"killed after {fired_at_kill}/{len(burst.deadlines)} firings and "
        f"{sent_at_kill}/{burst.texts_owed} texts; {retried} sends retried after the kill"
    )
    # The kill must land while work was in flight, or this test proves nothing.
    assert fired_at_kill < len(burst.deadlines) or sent_at_kill < burst.texts_owed
    stack.assert_each_fired_once_and_texted_once(burst)


def test_redis_restart_losing_its_queues_loses_and_doubles_nothing(stack):
    stack.start_worker("worker")
    stack.start_beat("beat")
    stack.wait_for_engine()
    burst = stack.seed(deadlines=100, due_in=2, spread=3)
    last_due = stack.sql(
        "SELECT max(due_at) FROM comms_deadline WHERE id = ANY(%s)", (burst.deadlines,)
    )[0][0]
    stack.wait_until(lambda: stack.fired(burst) >= 10, "the burst began firing", 30, burst)

    stack.kill(stack.redis)
    # The rest of the burst falls due while Redis is gone, then a fresh, empty one starts.
    stack.wait_until(
        lambda: stack.sql("SELECT now() > %s", (last_due,))[0][0],
        "the whole burst was due",
        10,
    )
    fired_while_down = stack.fired(burst)
    stack.start_redis("redis-2")
    stack.wait_until(
        stack.settled(burst), "the burst fired and texted after the restart", 120, burst
    )

    assert fired_while_down < len(burst.deadlines)
    stack.assert_each_fired_once_and_texted_once(burst)


def test_deadlines_fire_on_time_with_redis_down_and_the_worker_outlasts_it(stack):
    # Each text takes half a second, so the worker is holding one when Redis goes away; and it
    # retries the broker 20 times a second, where Celery's default limit of 100 attempts
    # would stop it within 5 s of the outage.
    stack.env["SMS_PROVIDER"] = "tests.integration.slow_provider.SlowRecordingSmsProvider"
    stack.env["BROKER_RECONNECT_SECONDS"] = "0.05"
    worker = stack.start_worker("worker")
    stack.start_beat("beat")
    stack.wait_for_engine()
    burst = stack.seed(deadlines=30, due_in=2, spread=3)
    stack.wait_until(
        lambda: "sending" in stack.texts(burst).values(), "a text was being sent", 30, burst
    )

    stack.kill(stack.redis)
    # The deadlines fire from PostgreSQL alone, on time: Redis carries only their hand-offs.
    stack.wait_until(
        lambda: stack.fired(burst) == len(burst.deadlines), "the burst fired, Redis down", 30, burst
    )
    latest = stack.sql(
        "SELECT extract(epoch FROM max(fired_at - due_at)) FROM comms_deadline WHERE id = ANY(%s)",
        (burst.deadlines,),
    )[0][0]
    assert latest <= 2, f"a deadline fired {latest:.1f} s late with Redis down"
    stack.wait_until(
        lambda: stack.log_count("worker", "Trying again") > 150 or worker.poll() is not None,
        "the worker tried the broker more than 150 times",
        60,
    )
    assert worker.poll() is None, f"the worker gave up while Redis was down\n{stack.logs()}"

    stack.start_redis("redis-2")
    stack.wait_until(
        stack.settled(burst), "the burst's texts went out once Redis was back", 120, burst
    )
    assert worker.poll() is None
    stack.assert_each_fired_once_and_texted_once(burst)
