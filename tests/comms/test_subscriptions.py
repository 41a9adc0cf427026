"""Families subscribe on the public status page, confirm, receive public updates, and leave
in one click; the sign-up never tells who is subscribed and is throttled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comms import subscriptions
from comms.delivery import deliver_dispatch
from comms.models import Dispatch, Subscriber
from incident_console.celery import app
from incidents import services as incident_services
from tests.comms.publishing import published, written

# Real commits: confirmations and deliveries are handed off after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def family() -> Client:
    """A family's browser: no session, and CSRF checks as a browser gets them."""
    return Client(enforce_csrf_checks=True)


def form_post(client: Client, url: str, data: dict, **extra):
    """Fetch the page for its CSRF cookie, then post the form with the token, as a browser."""
    page = client.get(url)
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    token = token or client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, **extra)


def subscribe_url(district) -> str:
    return reverse("status-subscribe", args=[district.slug])


def confirmation_link(message) -> str:
    return re.search(r"https?://\S+/subscribe/confirm/\S+/", message.body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def sign_up_email(client, district, address="parent@example.org", schools=()):
    return form_post(
        client,
        subscribe_url(district),
        {"channel": "email", "email": address, "schools": [s.pk for s in schools]},
    )


def confirm(client, link: str):
    return form_post(client, path_of(link), {})


# --- Signing up and confirming -------------------------------------------------------------


def test_an_email_sign_up_is_confirmed_by_pressing_confirm_on_the_link(riverbend, family):
    school = riverbend.schools[1]
    answer = sign_up_email(family, riverbend.district, "Parent@Example.org", [school])

    assert answer.status_code == 200
    assert b"Check your email" in answer.content
    (message,) = mail.outbox
    assert message.to == ["parent@example.org"]
    subscriber = Subscriber.objects.get()
    assert not subscriber.confirmed

    link = confirmation_link(message)
    opened = family.get(path_of(link))
    assert opened.status_code == 200
    assert b"Confirm" in opened.content
    subscriber.refresh_from_db()
    assert not subscriber.confirmed, "opening the link (as mail scanners do) confirms nothing"

    done = confirm(family, link)
    assert done.status_code == 200
    assert b"You are subscribed" in done.content
    subscriber.refresh_from_db()
    assert subscriber.confirmed
    assert list(subscriber.schools.all()) == [school]
    assert subscriber.confirm_secret == ""


def test_the_sign_up_answers_the_same_for_a_subscribed_address(riverbend, family):
    sign_up_email(family, riverbend.district)
    confirm(family, confirmation_link(mail.outbox[0]))

    def answer(address):
        body = sign_up_email(Client(enforce_csrf_checks=True), riverbend.district, address)
        return body.status_code, re.sub(
            r'name="csrfmiddlewaretoken" value="[^"]+"|\S+@example\.org', "", body.content.decode()
        )

    assert answer("parent@example.org") == answer("stranger@example.org")
    assert len(mail.outbox) == 3, "each address gets its confirmation, subscribed or not"


def test_a_link_older_than_48_hours_is_refused(riverbend, family):
    sign_up_email(family, riverbend.district)
    link = confirmation_link(mail.outbox[0])

    with time_machine.travel(timezone.now() + timedelta(hours=48, minutes=1)):
        answer = confirm(family, link)

    assert answer.status_code == 410
    assert b"more than 48 hours old" in answer.content
    assert not Subscriber.objects.get().confirmed


def test_a_newer_link_replaces_the_older_one(riverbend, family):
    sign_up_email(family, riverbend.district)
    sign_up_email(family, riverbend.district)
    older, newer = (confirmation_link(m) for m in mail.outbox)

    assert confirm(family, older).status_code == 410
    assert confirm(family, newer).status_code == 200
    assert confirm(family, newer).status_code == 200, "confirming twice is harmless"


def test_a_tampered_link_is_refused(riverbend, family):
    sign_up_email(family, riverbend.district)
    link = confirmation_link(mail.outbox[0])

    answer = confirm(family, link[:-6] + "AAAAA/")

    assert answer.status_code == 410
    assert not Subscriber.objects.get().confirmed


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"channel": "email", "email": "not-an-address"}, "email", b"whole email address"),
        ({"channel": "email", "email": ""}, "email", b"Enter the email address"),
        ({"channel": "sms", "phone": "555"}, "phone", b"Enter a mobile number"),
        ({"channel": "pigeon", "email": "a@example.org"}, "channel", b"Select a valid choice"),
        ({"channel": "email", "email": "a@example.org", "schools": ["999999"]}, "schools", b""),
    ],
)
def test_a_bad_sign_up_says_what_to_fix(riverbend, family, data, field, message):
    answer = form_post(family, subscribe_url(riverbend.district), data)

    assert answer.status_code == 422
    assert message in answer.content
    assert answer.context["form"].errors[field]
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_a_phone_sign_up_is_confirmed_with_the_texted_code(riverbend, family, sms_outbox):
    answer = form_post(
        family,
        subscribe_url(riverbend.district),
        {"channel": "sms", "phone": "(617) 555-0123", "schools": [riverbend.schools[0].pk]},
    )

    assert answer.status_code == 200
    (text,) = sms_outbox.calls
    assert text["to"] == "+16175550123"
    code = re.match(r"(\d{6}) is your code", text["body"]).group(1)
    ticket = answer.context["form"]["ticket"].value()

    url = reverse("status-confirm-code", args=[riverbend.district.slug])
    done = family.post(
        url,
        {"ticket": ticket, "code": code, "csrfmiddlewaretoken": family.cookies["csrftoken"].value},
    )
    assert done.status_code == 200
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.channel, subscriber.confirmed) == (
        "+16175550123",
        "sms",
        True,
    )


def test_five_wrong_codes_end_the_sign_up(riverbend, family, sms_outbox):
    answer = form_post(
        family, subscribe_url(riverbend.district), {"channel": "sms", "phone": "617-555-0199"}
    )
    ticket = answer.context["form"]["ticket"].value()
    code = re.match(r"(\d{6})", sms_outbox.calls[0]["body"]).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    url = reverse("status-confirm-code", args=[riverbend.district.slug])
    token = family.cookies["csrftoken"].value

    answers = [
        family.post(url, {"ticket": ticket, "code": wrong, "csrfmiddlewaretoken": token})
        for _ in range(5)
    ]
    last = family.post(url, {"ticket": ticket, "code": code, "csrfmiddlewaretoken": token})

    assert [a.status_code for a in answers] == [422] * 5
    assert b"4 tries left" in answers[0].content
    assert b"Sign up again" in answers[4].content
    assert last.status_code == 422, "the right code after five wrong ones is refused"
    assert not Subscriber.objects.get().confirmed


# --- Throttling ------------------------------------------------------------------------------


def test_one_address_is_sent_three_confirmations_an_hour_and_the_page_does_not_say(
    riverbend, family
):
    answers = [sign_up_email(family, riverbend.district) for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    assert len({a.content.count(b"Check your email") for a in answers}) == 1
    assert len(mail.outbox) == 3


def test_one_client_is_refused_after_twenty_sign_ups_an_hour(riverbend, family, settings):
    settings.SUBSCRIBE_RATE_CLIENT = "4/h"
    answers = [
        sign_up_email(family, riverbend.district, f"p{i}@example.org").status_code for i in range(5)
    ]
    elsewhere = sign_up_email(
        Client(enforce_csrf_checks=True, REMOTE_ADDR="10.9.9.9"), riverbend.district
    )

    assert answers == [200, 200, 200, 200, 429]
    assert elsewhere.status_code == 200
    assert Subscriber.objects.count() == 5


# --- Delivery -------------------------------------------------------------------------------


def subscribed(district, address, *, channel="email", schools=(), confirmed=True) -> Subscriber:
    subscriber = Subscriber.objects.create(
        district=district,
        channel=channel,
        address=address,
        confirmed_at=timezone.now() if confirmed else None,
    )
    subscriber.schools.set(schools)
    return subscriber


def open_incident(riverbend, *, schools=None, exercise=False):
    return incident_services.incident_open(
        by=riverbend.cio,
        title="SIS vendor breach, internal",
        kind="sis",
        severity=2,
        all_schools=schools is None,
        schools=schools or (),
        is_exercise=exercise,
    )


def publish(incident, lead, *, audience="families", channel="web"):
    draft = written(incident, lead, "Report cards are delayed.", audience=audience, channel=channel)
    return published(draft, lead)


def test_a_public_update_reaches_the_subscribers_it_concerns_once(riverbend, sms_outbox):
    one, two, three = riverbend.schools
    everyone = subscribed(riverbend.district, "all@example.org")
    at_one = subscribed(riverbend.district, "one@example.org", schools=[one])
    texted = subscribed(riverbend.district, "+16175550123", channel="sms", schools=[one, three])
    subscribed(riverbend.district, "two@example.org", schools=[two])
    subscribed(riverbend.district, "pending@example.org", confirmed=False)
    incident = open_incident(riverbend, schools=[one])

    publish(incident, riverbend.comms)

    rows = Dispatch.objects.filter(subscriber__isnull=False)
    assert {r.subscriber_id for r in rows} == {everyone.pk, at_one.pk, texted.pk}
    assert {r.status for r in rows} == {"sent"}, "the eager worker delivered each batch"
    by_address = {m.to[0]: m for m in mail.outbox if m.to[0].endswith("@example.org")}
    assert set(by_address) == {"all@example.org", "one@example.org"}
    message = by_address["one@example.org"]
    assert message.subject == "Riverbend District: Service disruption"
    assert "SIS vendor breach" not in message.body + message.subject
    assert "Report cards are delayed." in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert re.fullmatch(r"<https?://\S+/status/riverbend/unsubscribe/\S+/>", unsubscribe)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (text,) = [c for c in sms_outbox.calls if c["to"] == "+16175550123"]
    assert "Reply STOP" in text["body"]
    assert "/unsubscribe/" in text["body"]
    assert [deliver_dispatch(dispatch_id=r.pk) for r in rows] == ["skipped"] * 3


@pytest.mark.parametrize(
    ("audience", "channel", "exercise"),
    [
        ("staff", "email", False),
        ("board", "email", False),
        ("families", "email", False),
        ("families", "web", True),
    ],
)
def test_staff_board_other_channels_and_exercises_reach_no_subscriber(
    riverbend, audience, channel, exercise
):
    subscribed(riverbend.district, "all@example.org")
    incident = open_incident(riverbend, exercise=exercise)

    publish(incident, riverbend.comms, audience=audience, channel=channel)

    assert not Dispatch.objects.filter(subscriber__isnull=False).exists()
    assert "all@example.org" not in [m.to[0] for m in mail.outbox]


def test_media_updates_reach_subscribers_too(riverbend):
    subscribed(riverbend.district, "all@example.org")
    publish(open_incident(riverbend), riverbend.comms, audience="media")

    assert Dispatch.objects.filter(subscriber__isnull=False, status="sent").count() == 1


def test_subscriber_batches_go_to_the_families_queue():
    def queue(task):
        return app.amqp.router.route({}, task)["queue"].name

    assert queue("comms.tasks.deliver_to_subscribers") == "families"
    assert queue("comms.tasks.deliver_notification") == "celery"
    assert queue("comms.tasks.deliver_dispatch") == "celery"


def test_batches_hold_at_most_two_hundred_rows(riverbend, monkeypatch):
    sent = []
    monkeypatch.setattr("comms.tasks.deliver_to_subscribers.delay", sent.append)

    subscriptions.hand_off(list(range(1, 451)))

    assert [len(batch) for batch in sent] == [200, 200, 50]


# --- Unsubscribing --------------------------------------------------------------------------


def test_one_click_unsubscribe_needs_no_session_and_no_form_token(riverbend):
    subscriber = subscribed(riverbend.district, "all@example.org")
    incident = open_incident(riverbend)
    url = path_of(subscriptions.unsubscribe_url(subscriber))

    opened = Client(enforce_csrf_checks=True).get(url)
    assert opened.status_code == 200
    assert Subscriber.objects.filter(pk=subscriber.pk).exists(), "a GET only shows the button"

    answer = Client(enforce_csrf_checks=True).post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert answer.status_code == 200
    assert b"You are unsubscribed" in answer.content
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    publish(incident, riverbend.comms)
    assert not Dispatch.objects.filter(subscriber__isnull=False).exists()


def test_a_forged_unsubscribe_link_is_refused(riverbend):
    subscriber = subscribed(riverbend.district, "all@example.org")
    url = path_of(subscriptions.unsubscribe_url(subscriber))

    answer = Client().post(url.replace("/unsubscribe/", "/unsubscribe/x"))

    assert answer.status_code == 404
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_unsubscribing_deletes_waiting_messages(riverbend, monkeypatch):
    monkeypatch.setattr("comms.subscriptions.hand_off", lambda ids: None)
    subscriber = subscribed(riverbend.district, "all@example.org")
    publish(open_incident(riverbend), riverbend.comms)
    assert Dispatch.objects.filter(subscriber=subscriber, status="pending").count() == 1

    subscriptions.unsubscribe(
        district=riverbend.district, token=subscriptions.unsubscribe_token(subscriber)
    )

    assert not Dispatch.objects.filter(destination="all@example.org").exists()


def test_sign_ups_never_confirmed_are_forgotten_after_48_hours(riverbend):
    subscribed(riverbend.district, "pending@example.org", confirmed=False)
    subscribed(riverbend.district, "all@example.org")

    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert subscriptions.purge_unconfirmed() == 1

    assert list(Subscriber.objects.values_list("address", flat=True)) == ["all@example.org"]


# --- The district's administrators ------------------------------------------------------------


def test_the_admin_exports_and_deletes_subscribers(riverbend, admin_client):
    subscribed(riverbend.district, "all@example.org", schools=[riverbend.schools[0]])
    subscribed(riverbend.district, "=cmd@example.org")
    url = reverse("admin:comms_subscriber_changelist")

    export = admin_client.post(
        url,
        {
            "action": "export_csv",
            "_selected_action": list(Subscriber.objects.values_list("pk", flat=True)),
        },
    )
    rows = export.content.decode().splitlines()

    assert export["Content-Type"].startswith("text/csv")
    assert rows[0].startswith("district,channel,address,schools")
    assert any("all@example.org,Riverbend School 1" in r for r in rows)
    assert any(",'=cmd@example.org," in r for r in rows), "no formula reaches a spreadsheet"

    deleted = admin_client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": list(Subscriber.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert deleted.status_code == 302
    assert not Subscriber.objects.exists()


def test_people_who_are_not_administrators_cannot_see_subscribers(riverbend, client):
    subscribed(riverbend.district, "all@example.org")
    client.force_login(riverbend.comms)

    answer = client.get(reverse("admin:comms_subscriber_changelist"))

    assert answer.status_code == 302
    assert "all@example.org" not in answer.content.decode()
