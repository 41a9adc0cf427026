"""Message discipline checks: each warning fires on the messages it is meant for and stays quiet
on calm, plain messages; SMS segment counting at the GSM-7 and UCS-2 boundaries."""

from datetime import datetime

import pytest

from comms import discipline
from comms.discipline import Facts, check, extract_facts, reading_grade, sms_segments

NEXT = " Our next update will be at 2 pm."


def _check(body, **overrides):
    options = {"audience": "staff", "channel": "email", "phase": "control"} | overrides
    return check(body=body, **options)


def _codes(findings):
    return [finding.code for finding in findings]


def _only(findings, code):
    return [finding for finding in findings if finding.code == code]


# --- SMS segments ----------------------------------------------------------------------------


def test_sms_segments_160_gsm_characters_fit_one_message():
    text = "a" * 160

    info = sms_segments(text)

    assert (info.encoding, info.characters, info.segments, info.per_segment) == (
        "GSM-7",
        160,
        1,
        160,
    )


def test_sms_segments_161_gsm_characters_need_two_parts_of_153():
    text = "a" * 161

    info = sms_segments(text)

    assert (info.encoding, info.segments, info.per_segment) == ("GSM-7", 2, 153)


def test_sms_segments_306_gsm_characters_still_fit_two_parts():
    text = "a" * 306

    info = sms_segments(text)

    assert info.segments == 2


def test_sms_segments_307_gsm_characters_need_three_parts():
    text = "a" * 307

    info = sms_segments(text)

    assert info.segments == 3


def test_sms_segments_70_ucs2_characters_fit_one_message():
    text = "ó" * 70

    info = sms_segments(text)

    assert (info.encoding, info.characters, info.segments, info.per_segment) == (
        "UCS-2",
        70,
        1,
        70,
    )


def test_sms_segments_71_ucs2_characters_need_two_parts_of_67():
    text = "ó" * 71

    info = sms_segments(text)

    assert (info.encoding, info.segments, info.per_segment) == ("UCS-2", 2, 67)


def test_sms_segments_one_non_gsm_accent_switches_the_whole_text_to_ucs2():
    text = "Información: " + "a" * 60

    info = sms_segments(text)

    assert (info.encoding, info.segments) == ("UCS-2", 2)


def test_sms_segments_curly_apostrophe_switches_to_ucs2():
    text = "We don’t know yet."

    info = sms_segments(text)

    assert info.encoding == "UCS-2"


def test_sms_segments_e_acute_is_part_of_gsm7():
    # é is in the GSM 03.38 basic set, unlike ó or a curly quote.
    text = "Café closed today." + "a" * 142

    info = sms_segments(text)

    assert (info.encoding, info.characters, info.segments) == ("GSM-7", 160, 1)


def test_sms_segments_euro_sign_counts_two_gsm_units():
    text = "€" + "a" * 159

    info = sms_segments(text)

    assert (info.encoding, info.characters, info.segments) == ("GSM-7", 161, 2)


def test_sms_segments_never_split_an_extension_character_across_parts():
    # 152 + 2 + 152 = 306 units, but the € cannot straddle parts one and two.
    text = "a" * 152 + "€" + "a" * 152

    info = sms_segments(text)

    assert (info.characters, info.segments) == (306, 3)


def test_sms_segments_emoji_counts_two_ucs2_units():
    text = "🙂" + "a" * 68

    info = sms_segments(text)

    assert (info.encoding, info.characters, info.segments) == ("UCS-2", 70, 1)


# --- Reading grade ---------------------------------------------------------------------------


def test_reading_grade_follows_flesch_kincaid():
    # 5 words, 1 sentence, 8 syllables: 0.39 * 5 + 11.8 * 8 / 5 - 15.59
    text = "Students cannot log in today."

    grade = reading_grade(text)

    assert grade == pytest.approx(5.24)


def test_reading_grade_rises_with_long_words_and_sentences():
    text = (
        "Consequently, the comprehensive modernization initiative necessitated substantial "
        "reconfiguration of interconnected instructional technologies across facilities."
    )

    grade = reading_grade(text)

    assert grade > 12


def test_reading_grade_of_text_without_words_is_zero():
    text = "  ... "

    grade = reading_grade(text)

    assert grade == 0.0


def test_reading_grade_never_goes_below_zero():
    text = "We are here. We can help. Call us."

    grade = reading_grade(text)

    assert grade == 0.0


def test_reading_grade_does_not_end_a_sentence_at_p_m():
    text = "We will call at 3 p.m. today and then again."

    grade = reading_grade(text)

    assert grade == pytest.approx(reading_grade("We will call at 3 pm today and then again."))


# --- Facts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("The student information system is down at all schools.", "down"),
        ("Students cannot sign in to their classes.", "down"),
        ("Wi-Fi is slow at three schools.", "degraded"),
        ("Email has been restored for everyone.", "restored"),
        ("The phone problem is resolved.", "restored"),
        ("Email was down this morning and is now back online.", "restored"),
        ("Email is down. We will tell you as soon as it is restored.", "down"),
    ],
)
def test_extract_facts_finds_the_current_status(text, status):
    facts = extract_facts(text)

    assert facts.status == status


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("Our next update will be at 2:30 pm.", "14:30"),
        ("We will update you at 15:30.", "15:30"),
        ("We will share more tomorrow at 8.", "08:00"),
        ("Next update by noon.", "12:00"),
        ("We will update you at 9 a.m. on Monday.", "09:00"),
        ("With schools closed, our next update is at 7 pm.", "19:00"),
        ("Next update at 4.", "16:00"),
    ],
)
def test_extract_facts_normalises_the_next_update_time(text, time):
    facts = extract_facts(text)

    assert facts.next_update == time


def test_extract_facts_ignores_a_time_that_is_not_about_the_next_update():
    text = "Buses will leave at 3 pm as usual."

    facts = extract_facts(text)

    assert facts == Facts(status=None, next_update=None)


# --- Speculation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        "We believe the cause was a network change",
        "The outage was likely caused by a power cut",
        "It appears to be caused by a storage fault",
        "It was probably the storm",
        "This may have been caused by a faulty card",
        "We suspect a configuration error",
        "The root cause appears to be a failed disk",
        "Hackers may be involved",
        "A bad update stopped the system",
    ],
)
def test_speculation_about_cause_warns_during_control(words):
    body = f"{words}." + NEXT

    findings = _check(body)

    assert _codes(findings) == ["speculation"]


def test_speculation_finding_quotes_the_words_that_guess():
    body = "We suspect a configuration error." + NEXT

    findings = _check(body)

    assert findings[0].excerpt == "We suspect"


def test_speculation_is_not_flagged_after_the_control_phase():
    body = "The outage was likely caused by a power cut." + NEXT

    findings = _check(body, phase="trust")

    assert findings == []


def test_saying_the_cause_is_not_known_yet_is_not_speculation():
    body = "We do not know the cause yet, and we will not guess." + NEXT

    findings = _check(body)

    assert findings == []


# --- Restoration promises --------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        "The SIS will be back by 3 pm",
        "Email should be restored by noon",
        "We expect the phones to be fixed by tomorrow",
        "Wi-Fi will be up and running by lunch",
        "The issue will be resolved by end of day",
        "Everything will be back to normal by Monday",
        "By end of day, the system will be back online",
    ],
)
def test_restoration_promise_warns_during_control(words):
    body = f"{words}." + NEXT

    findings = _check(body)

    assert _codes(findings) == ["restoration_promise"]


def test_overlapping_promise_phrases_become_one_finding_with_the_whole_phrase():
    body = "The SIS will be back by 3 pm." + NEXT

    findings = _check(body)

    assert [finding.excerpt for finding in findings] == ["will be back by 3 pm"]


@pytest.mark.parametrize(
    "body",
    [
        "Email is down. Our next update will be at 3 pm.",
        "Email is down. We will update you by 3 pm.",
        "Email is down. We will be back in touch by 3 pm.",
        "Email is down. Teachers will be back in class today. Next update at 3 pm.",
    ],
)
def test_promising_the_next_update_time_is_not_a_restoration_promise(body):
    findings = _check(body)

    assert findings == []


def test_reporting_a_past_restoration_time_is_not_a_promise():
    body = "Phones were restored by 9 am at every school." + NEXT

    findings = _check(body)

    assert findings == []


def test_restoration_time_is_not_flagged_in_recovery():
    body = "The last schools will be back online by noon." + NEXT

    findings = _check(body, phase="recovery")

    assert findings == []


# --- Blame -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        "This was the vendor's fault",
        "This is not our fault",
        "The failure was outside our control",
        "Our legacy system could not cope",
        "The vendor failed to warn us",
        "We did nothing wrong",
        "As we warned last year, this could happen",
        "The outage is due to the vendor",
        "It was a third-party failure",
    ],
)
def test_blame_or_defensive_framing_warns_in_any_phase(words):
    body = f"{words}." + NEXT

    findings = _check(body, phase="recovery")

    assert _codes(findings) == ["blame"]


def test_working_with_a_vendor_is_not_blame():
    body = "We are working with our provider to bring email back." + NEXT

    findings = _check(body, phase="trust")

    assert findings == []


# --- Jargon ----------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["families", "media"])
def test_jargon_warns_for_families_and_media(audience):
    body = "Students cannot reach the LMS." + NEXT

    findings = _check(body, audience=audience)

    assert _codes(findings) == ["jargon"]


@pytest.mark.parametrize(
    ("body", "term"),
    [
        ("The SIS is down.", "SIS"),
        ("Students use SSO to reach their classes.", "SSO"),
        ("A DNS problem stops some websites.", "DNS"),
        ("We are seeing latency at two schools.", "latency"),
        ("Authentication is failing for students.", "Authentication"),
        ("One server has stopped.", "server"),
        ("The database is being checked.", "database"),
        ("We applied a patch overnight.", "patch"),
        ("The firewall is blocking some sites.", "firewall"),
        ("We are seeing packet loss.", "packet loss"),
    ],
)
def test_jargon_finding_quotes_the_term(body, term):
    findings = _check(body + NEXT, audience="families", phase="trust")

    assert [finding.excerpt for finding in _only(findings, "jargon")] == [term]


@pytest.mark.parametrize("audience", ["staff", "board"])
def test_jargon_is_fine_for_staff_and_board(audience):
    body = "The SIS server is down; authentication fails." + NEXT

    findings = _check(body, audience=audience)

    assert findings == []


def test_jargon_does_not_match_inside_a_longer_word():
    body = "An observer from the state will visit, as planned." + NEXT

    findings = _check(body, audience="families")

    assert findings == []


def test_homework_packet_is_not_network_jargon():
    body = "Teachers will send home a paper packet for each class." + NEXT

    findings = _check(body, audience="families")

    assert findings == []


# --- Next update time ------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "sms", "web", "voice"])
def test_missing_next_update_time_warns_on_every_channel(channel):
    body = "Email is down at all schools. Teachers can use paper for now."

    findings = _check(body, channel=channel)

    assert _codes(findings) == ["no_next_update"]


def test_promising_an_update_without_saying_when_still_warns():
    body = "Email is down. We will update you when we know more."

    findings = _check(body)

    assert _codes(findings) == ["no_next_update"]


@pytest.mark.parametrize(
    "ending",
    [
        "Next update at 3 pm.",
        "We will update you by 15:30.",
        "We will share more tomorrow at 8.",
        "Next update in two hours.",
        "We will update you every hour until this is fixed.",
        "Expect our next update this afternoon.",
    ],
)
def test_saying_when_the_next_update_comes_satisfies_the_check(ending):
    body = "Email is down at all schools. " + ending

    findings = _check(body)

    assert findings == []


def test_final_update_needs_no_next_update_time():
    body = "Email is working again at every school. This is our final update."

    findings = _check(body, phase="recovery")

    assert findings == []


# --- Overcorrection --------------------------------------------------------------------------


def test_message_much_longer_than_usual_warns():
    body = "Email is down." + NEXT + " More detail." * 20

    findings = _check(body, previous_lengths=[50, 60, 400])

    assert _codes(findings) == ["overcorrection"]


def test_one_earlier_update_is_the_audience_norm():
    body = "Email is down." + NEXT + " More detail." * 20

    findings = _check(body, previous_lengths=[50])

    assert _codes(findings) == ["overcorrection"]


LONG = "Email is down at every school." + NEXT + " Here is more of what we know." * 25


def test_a_long_catch_up_after_a_silence_warns_even_as_the_first_update():
    findings = _only(_check(LONG, phase="trust", lapsed=True), "overcorrection")

    assert findings[0].title == "Long catch-up after a silence"
    assert "The promised update time has passed" in findings[0].reason


def test_a_long_first_update_in_phase_1_warns():
    findings = _only(_check(LONG, phase="control"), "overcorrection")

    assert findings[0].title == "Long first update"


def test_a_long_first_update_later_on_time_is_not_overcorrection():
    assert "overcorrection" not in _codes(_check(LONG, phase="trust"))


def test_a_short_update_after_a_silence_is_what_the_doctrine_asks_for():
    body = "Email is down at every school. Teachers are using paper." + NEXT

    assert "overcorrection" not in _codes(_check(body, phase="trust", lapsed=True))


def test_the_board_may_get_a_longer_update_than_families():
    body = "Email is down at every school." + NEXT + " Here is more of what we know." * 30

    assert "overcorrection" not in _codes(_check(body, audience="board", lapsed=True))
    assert "overcorrection" in _codes(_check(body, audience="families", lapsed=True))


def test_exactly_two_and_a_half_times_the_median_is_not_overcorrection():
    body = "Email is down for now." + NEXT  # 55 characters: 2.5 x 22

    findings = _check(body, previous_lengths=[22, 22])

    assert findings == []


# --- Public post-mortem ----------------------------------------------------------------------

POST_MORTEM = (
    "Student email is working again at every school. Attackers got in through an unpatched "
    "remote-access appliance after a staff member clicked a phishing link, and the technician "
    "responsible has been placed on leave." + NEXT
)


@pytest.mark.parametrize("audience", ["families", "media"])
def test_a_public_post_mortem_in_recovery_points_to_the_private_review(audience):
    findings = _only(_check(POST_MORTEM, audience=audience, phase="recovery"), "public_post_mortem")

    assert [f.excerpt for f in findings] == [
        "Attackers got in",
        "unpatched",
        "clicked a phishing link",
        "placed on leave",
    ]
    assert "Learn privately, stabilise publicly" in findings[0].reason


def test_a_public_post_mortem_before_recovery_is_warned_too():
    findings = _check(POST_MORTEM, audience="families", phase="trust")

    assert "public_post_mortem" in _codes(findings)


@pytest.mark.parametrize("audience", ["staff", "board"])
def test_the_cause_may_be_told_to_staff_and_the_board(audience):
    findings = _check(POST_MORTEM, audience=audience, phase="recovery")

    assert "public_post_mortem" not in _codes(findings)


def test_saying_a_review_will_follow_is_what_recovery_asks_for():
    body = (
        "The student portal is working normally again. Thank you for your patience. We will "
        "review what happened and share what we learn with the board. This is our final update."
    )

    assert _check(body, audience="families", phase="recovery") == []


# --- SMS -------------------------------------------------------------------------------------


def test_long_sms_warns_with_segment_count_and_encoding():
    body = "Email is down at all schools." + NEXT + " Teachers will use paper." * 5

    findings = _only(_check(body, channel="sms"), "sms_segments")

    assert "2 separate messages (GSM-7" in findings[0].reason


def test_sms_warning_names_the_single_character_that_forced_ucs2():
    body = "Email is down and we don’t know when it will be fixed." + NEXT

    findings = _only(_check(body, channel="sms"), "sms_segments")

    assert "forced by ’ (right single quotation mark)" in findings[0].reason


def test_long_email_gets_no_sms_warning():
    body = "Email is down at all schools." + NEXT + " Teachers will use paper." * 10

    findings = _check(body, channel="email")

    assert findings == []


# --- Reading grade ---------------------------------------------------------------------------


def test_hard_family_message_warns_with_the_grade_to_one_decimal():
    body = (
        "Consequently, the comprehensive modernization initiative necessitated substantial "
        "reconfiguration of interconnected instructional technologies, generating considerable "
        "unavailability throughout numerous educational facilities." + NEXT
    )

    findings = _only(_check(body, audience="families", phase="trust"), "reading_grade")

    assert f"grade {round(reading_grade(body), 1):.1f}" in findings[0].reason


def test_short_family_message_skips_the_reading_grade():
    body = "Comprehensive reconfiguration necessitated." + NEXT

    findings = _check(body, audience="families", phase="trust")

    assert findings == []


def test_hard_message_for_the_board_gets_no_reading_grade_warning():
    body = (
        "Consequently, the comprehensive modernization initiative necessitated substantial "
        "reconfiguration of interconnected instructional technologies, generating considerable "
        "unavailability throughout numerous educational facilities." + NEXT
    )

    findings = _check(body, audience="board", phase="trust")

    assert findings == []


# --- Facts across audiences ------------------------------------------------------------------


def test_different_status_for_another_audience_warns_naming_both():
    body = "Email is down at all schools." + NEXT
    others = {"board": Facts(status="restored", next_update=None)}

    findings = _check(body, audience="families", other_audiences=others)

    assert 'status as "down", but the update for the board says "restored"' in findings[0].reason


def test_different_next_update_time_for_another_audience_warns():
    body = "Email is down at all schools." + NEXT
    others = {"staff": Facts(status="down", next_update="15:00")}

    findings = _check(body, audience="families", other_audiences=others)

    assert [(f.code, f.excerpt) for f in findings] == [("facts_disagree", "2 pm")]


def test_matching_facts_across_audiences_do_not_warn():
    body = "Email is down at all schools." + NEXT
    others = {"staff": Facts("down", "14:00"), "board": Facts("down", "14:00")}

    findings = _check(body, audience="families", other_audiences=others)

    assert findings == []


def test_another_audience_without_facts_does_not_warn():
    body = "Email is down at all schools." + NEXT
    others = {"media": Facts(status=None, next_update=None)}

    findings = _check(body, audience="families", other_audiences=others)

    assert findings == []


def test_own_audience_among_the_others_is_ignored():
    body = "Email is down at all schools." + NEXT
    others = {"families": Facts(status="restored", next_update="09:00")}

    findings = _check(body, audience="families", other_audiences=others)

    assert findings == []


# --- Clean messages and edge cases -----------------------------------------------------------


def test_calm_staff_update_has_no_findings():
    body = (
        "The student information system is down at all schools. Please take attendance on "
        "paper and enter it later; nothing will be lost. The response team is working on it "
        "now. Next update at 10:30."
    )

    findings = _check(body, audience="staff", channel="email", previous_lengths=[180, 220])

    assert findings == []


def test_plain_family_update_with_a_next_update_time_has_no_findings():
    body = (
        "Students cannot sign in to the homework website this morning. Teachers will use paper "
        "work in class today, so no one falls behind. Your child is safe at school. We will "
        "send our next update at 2 pm."
    )

    findings = _check(body, audience="families", channel="email")

    assert findings == []


def test_short_family_text_message_has_no_findings():
    body = "Homework sites are down today. Classes go on with paper. Next update at 2 pm."

    findings = _check(body, audience="families", channel="sms")

    assert findings == []


def test_blank_draft_has_no_findings():
    body = "   "

    findings = _check(body)

    assert findings == []


def test_unknown_channel_is_a_programming_error():
    body = "Email is down." + NEXT

    with pytest.raises(ValueError, match="in_app"):
        _check(body, channel="in_app")


def test_alarm_words_warn_in_a_recovery_note():
    findings = check(
        body="URGENT: all systems are back. Next update at 3 pm.",
        audience="families",
        channel="email",
        phase="recovery",
    )

    assert [f.code for f in findings] == ["alarm_in_recovery"]
    assert findings[0].excerpt == "URGENT"


def test_a_calm_recovery_note_does_not_warn():
    findings = check(
        body="Grades are visible again and school runs as normal. Next update tomorrow at 9 am.",
        audience="families",
        channel="email",
        phase="recovery",
    )

    assert findings == []


def test_alarm_words_do_not_warn_in_phase_one():
    findings = check(
        body="Emergency contacts work as usual. Next update at 3 pm.",
        audience="staff",
        channel="email",
        phase="control",
    )

    assert "alarm_in_recovery" not in [f.code for f in findings]


# --- The next-update time in the text against the promised one -----------------------------

PROMISE_NOW = datetime(2026, 12, 4, 15, 47)  # a Friday afternoon, district time
PROMISED = datetime(2026, 12, 4, 16, 42)


@pytest.mark.parametrize(
    "body",
    [
        "The next update will be posted by 2 pm.",
        "We will send the next update tomorrow at 4:42 pm.",
        "Next update on Monday.",
        "Phones are down. Next update at 16:00.",
    ],
)
def test_a_next_update_time_other_than_the_promise_is_a_warning(body):
    finding = discipline.promise_differs(body, PROMISED, PROMISE_NOW)

    assert finding is not None and finding.code == "promise_differs"
    assert "Friday at 4:42 PM" in finding.reason


@pytest.mark.parametrize(
    "body",
    [
        "Next update by 4:42 pm.",
        "We will send the next update today at 4:42 PM.",
        "Next update on Friday at 4:42 p.m.",
        "Phones are down. We will update you within the hour.",
        "Phones are down at 2 pm for maintenance.",
    ],
)
def test_the_promised_time_or_no_time_is_no_warning(body):
    assert discipline.promise_differs(body, PROMISED, PROMISE_NOW) is None
