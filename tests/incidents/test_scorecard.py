from datetime import UTC, datetime, timedelta

from incidents.scorecard import Event, compute, format_span

DECLARED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return DECLARED + timedelta(minutes=minutes)


def update(minutes: float, audience: str, promise_minutes: float) -> Event:
    payload = {"audience": audience, "promised_next_at": at(promise_minutes).isoformat()}
    return Event(at(minutes), "update.published", payload)


def guidance(minutes: float, version: int) -> Event:
    return Event(at(minutes), "guidance.published", {"version": version})


def ack(minutes: float, school: int, version: int) -> Event:
    return Event(at(minutes), "guidance.acknowledged", {"school": school, "version": version})


def score(events, now_minutes=600, **kwargs):
    return compute(declared_at=DECLARED, events=events, now=at(now_minutes), **kwargs)


def test_empty_timeline_has_nothing_to_report():
    card = score([])

    assert [a.audience for a in card.audiences] == ["staff", "families", "board", "media"]
    assert all(a.first_update_after is None for a in card.audiences)
    assert all(a.longest_silence == timedelta(0) for a in card.audiences)
    assert (card.withdrawn, card.corrections) == (0, 0)
    assert card.guidance_all_acknowledged_after is None
    assert card.staff_before_families is None


def test_next_update_before_promise_keeps_it():
    events = [update(10, "staff", 70), update(65, "staff", 125)]

    staff = score(events, now_minutes=100).audience("staff")

    assert (staff.promises_kept, staff.promises_broken, staff.promises_pending) == (1, 0, 1)
    assert staff.longest_silence == timedelta(0)


def test_next_update_exactly_at_promise_keeps_it():
    events = [update(10, "staff", 70), update(70, "staff", 130)]

    staff = score(events, now_minutes=100).audience("staff")

    assert staff.promises_kept == 1
    assert staff.promises_broken == 0


def test_late_update_breaks_promise_and_measures_silence():
    events = [update(10, "families", 70), update(115, "families", 175)]

    families = score(events, now_minutes=120).audience("families")

    assert families.promises_broken == 1
    assert families.longest_silence == timedelta(minutes=45)


def test_overdue_promise_with_no_update_is_silence_until_now():
    events = [update(10, "board", 70)]

    board = score(events, now_minutes=200).audience("board")

    assert board.promises_broken == 1
    assert board.promises_pending == 0
    assert board.longest_silence == timedelta(minutes=130)


def test_promise_not_yet_due_is_pending():
    events = [update(10, "media", 70)]

    media = score(events, now_minutes=70).audience("media")

    assert (media.promises_kept, media.promises_broken, media.promises_pending) == (0, 0, 1)
    assert media.longest_silence == timedelta(0)


def test_longest_silence_is_the_longest_of_several():
    events = [
        update(0, "staff", 60),
        update(80, "staff", 140),
        update(200, "staff", 260),
        update(270, "staff", 330),
    ]

    staff = score(events, now_minutes=300).audience("staff")

    assert staff.promises_broken == 3
    assert staff.longest_silence == timedelta(minutes=60)


def opened(**first_promises: float) -> Event:
    """The declaration, with each audience's first promised update (minutes after it)."""
    promises = {audience: at(m).isoformat() for audience, m in first_promises.items()}
    return Event(at(0), "incident.opened", {"kind": "sis", "first_promises": promises})


def cadence_changed(minutes: float, audience: str, promise_minutes: float | None) -> Event:
    payload = {"audience": audience, "interval_minutes": 30, "reason": "Parents are calling."}
    if promise_minutes is not None:
        payload["promised_next_at"] = at(promise_minutes).isoformat()
    return Event(at(minutes), "cadence.changed", payload)


def test_time_before_first_update_is_not_silence_without_a_first_promise():
    events = [update(300, "families", 360)]

    families = score(events, now_minutes=320).audience("families")

    assert families.longest_silence == timedelta(0)
    assert families.first_update_after == timedelta(minutes=300)


def test_the_wait_past_the_first_promise_is_silence():
    """Families were promised a first update two hours in and heard after five."""
    events = [
        opened(staff=60, families=120),
        update(30, "staff", 400),
        update(300, "families", 360),
    ]

    card = score(events, now_minutes=320)

    assert card.audience("families").longest_silence == timedelta(minutes=180)
    assert card.audience("staff").longest_silence == timedelta(0)
    # The first promise is the clock's, not a published one: the counts are unchanged.
    assert card.audience("families").promises_broken == 0


def test_a_first_promise_still_unmet_is_silence_until_now():
    card = score([opened(families=120)], now_minutes=200)

    assert card.audience("families").longest_silence == timedelta(minutes=80)
    assert card.audience("families").first_update_after is None


def test_the_longer_of_the_first_wait_and_later_silences_counts():
    events = [opened(families=60), update(90, "families", 120), update(300, "families", 360)]

    families = score(events, now_minutes=320).audience("families")

    assert families.longest_silence == timedelta(minutes=180)
    assert families.promises_broken == 1


def test_a_cadence_change_before_the_first_update_moves_the_first_promise():
    events = [
        opened(families=240),
        cadence_changed(10, "families", 40),  # brought forward
        cadence_changed(20, "families", None),  # a longer interval moves no promise
        update(100, "families", 160),
        cadence_changed(110, "families", 130),  # after the first update: a published promise
    ]

    families = score(events, now_minutes=150).audience("families")

    assert families.longest_silence == timedelta(minutes=60)


def test_audiences_are_scored_independently():
    events = [update(10, "staff", 70), update(20, "families", 30), update(60, "staff", 120)]

    card = score(events, now_minutes=90)

    assert card.audience("staff").promises_kept == 1
    assert card.audience("families").promises_broken == 1
    assert card.audience("families").longest_silence == timedelta(minutes=60)
    assert card.audience("board").first_update_after is None


def test_first_update_after_is_measured_from_declaration():
    events = [update(25, "staff", 85), update(50, "staff", 110), update(90, "families", 150)]

    card = score(events)

    assert card.audience("staff").first_update_after == timedelta(minutes=25)
    assert card.audience("families").first_update_after == timedelta(minutes=90)


def test_only_requested_audiences_are_scored_in_order():
    events = [update(10, "media", 70), update(20, "staff", 80)]

    card = score(events, audiences=("media", "staff", "media"))

    assert [a.audience for a in card.audiences] == ["media", "staff"]
    assert card.audience("board") is None


def test_staff_heard_first():
    events = [update(10, "staff", 70), update(30, "families", 90)]

    assert score(events).staff_before_families is True


def test_staff_and_families_at_same_moment_counts_as_staff_first():
    events = [update(30, "families", 90), update(30, "staff", 90)]

    assert score(events).staff_before_families is True


def test_families_heard_first():
    events = [update(10, "families", 70), update(30, "staff", 90)]

    assert score(events).staff_before_families is False


def test_families_heard_while_staff_had_nothing():
    events = [update(10, "families", 70)]

    assert score(events).staff_before_families is False


def test_staff_only_leaves_ordering_undecided():
    events = [update(10, "staff", 70)]

    assert score(events).staff_before_families is None


def test_withdrawals_and_corrections_are_counted():
    events = [
        Event(at(5), "draft.withdrawn", {"draft": 3}),
        Event(at(6), "draft.withdrawn", {"draft": 4, "reason": "superseded"}),
        Event(at(40), "update.corrected", {"audience": "families"}),
        Event(at(41), "draft.approved", {"draft": 5}),
    ]

    card = score(events)

    assert (card.withdrawn, card.corrections) == (2, 1)


def test_guidance_fully_acknowledged_at_last_school():
    events = [guidance(30, 1), ack(45, 1, 1), ack(90, 2, 1), ack(120, 1, 1)]

    card = score(events, school_ids=[1, 2])

    assert card.guidance_all_acknowledged_after == timedelta(minutes=90)
    assert (card.guidance_schools_acknowledged, card.guidance_schools_total) == (2, 2)


def test_guidance_partially_acknowledged():
    events = [guidance(30, 1), ack(45, 1, 1), ack(50, 99, 1)]

    card = score(events, school_ids=[1, 2, 3])

    assert card.guidance_all_acknowledged_after is None
    assert (card.guidance_schools_acknowledged, card.guidance_schools_total) == (1, 3)


def test_acknowledging_a_later_version_counts():
    events = [guidance(30, 1), guidance(60, 2), ack(45, 1, 1), ack(75, 2, 2)]

    card = score(events, school_ids=[1, 2])

    assert card.guidance_all_acknowledged_after == timedelta(minutes=75)


def test_acknowledgement_before_any_guidance_is_ignored():
    events = [ack(20, 1, 1), guidance(30, 1), ack(40, 2, 1)]

    card = score(events, school_ids=[1, 2])

    assert card.guidance_all_acknowledged_after is None
    assert card.guidance_schools_acknowledged == 1


def test_acknowledgement_of_version_older_than_first_published_is_ignored():
    events = [guidance(30, 2), ack(40, 1, 1), ack(50, 2, 2)]

    card = score(events, school_ids=[1, 2])

    assert card.guidance_schools_acknowledged == 1


def test_no_schools_means_no_acknowledgement_time():
    events = [guidance(30, 1), ack(40, 1, 1)]

    card = score(events)

    assert card.guidance_all_acknowledged_after is None
    assert card.guidance_schools_total == 0


def test_unsorted_events_are_ordered_by_time():
    events = [update(115, "families", 175), ack(90, 1, 1), update(10, "families", 70)]
    events.append(guidance(30, 1))

    card = score(events, now_minutes=120, school_ids=[1])

    families = card.audience("families")
    assert families.first_update_after == timedelta(minutes=10)
    assert families.longest_silence == timedelta(minutes=45)
    assert card.guidance_all_acknowledged_after == timedelta(minutes=90)


def test_promise_with_other_offset_is_compared_in_utc():
    eastern = "2026-03-02T10:00:00-05:00"  # 15:00 UTC, an hour after declaration
    events = [
        Event(at(0), "update.published", {"audience": "staff", "promised_next_at": eastern}),
        update(90, "staff", 150),
    ]

    staff = score(events, now_minutes=100).audience("staff")

    assert staff.longest_silence == timedelta(minutes=30)


def test_malformed_events_are_skipped():
    events = [
        Event(at(1), "update.published", {"audience": "staff"}),
        Event(at(2), "update.published", {"audience": "staff", "promised_next_at": "soon"}),
        Event(at(3), "update.published", {"audience": "staff", "promised_next_at": "2026-03-02"}),
        Event(at(4), "update.published", {"promised_next_at": at(60).isoformat()}),
        Event(at(5), "update.published", None),
        Event(datetime(2026, 3, 2, 14, 5), "update.published", {"audience": "staff"}),
        Event(at(6), "draft.withdrawn", {}),
        Event(at(7), "update.corrected", {"audience": 3}),
        Event(at(8), "guidance.published", {"version": "1"}),
        Event(at(9), "guidance.acknowledged", {"school": True, "version": 1}),
        update(20, "staff", 80),
    ]

    card = score(events, now_minutes=60)

    assert card.audience("staff").first_update_after == timedelta(minutes=20)
    assert card.audience("staff").promises_pending == 1
    assert (card.withdrawn, card.corrections) == (0, 0)
    assert card.guidance_schools_acknowledged == 0


def test_format_span_none_is_a_dash():
    assert format_span(None) == "—"


def test_format_span_minutes():
    assert format_span(timedelta(minutes=45, seconds=59)) == "45 min"


def test_format_span_hours_pad_minutes():
    assert format_span(timedelta(hours=3, minutes=5)) == "3 h 05 min"


def test_format_span_days_and_hours():
    assert format_span(timedelta(days=2, hours=4, minutes=30)) == "2 d 4 h"


def test_format_span_negative_reads_as_zero():
    assert format_span(timedelta(minutes=-5)) == "0 min"
