"""What the console logs: a refusal in one line, and never a message body without DEBUG."""

import logging

import pytest
from django.core import mail
from django.test import override_settings

from incident_console.logs import RefusalsWithoutTraceback

pytestmark = pytest.mark.django_db


def _formatted(caplog) -> list[tuple[str, str]]:
    handler_filter = RefusalsWithoutTraceback()
    out = []
    for record in caplog.records:
        if record.name == "django.request":
            handler_filter.filter(record)
            out.append((record.levelname, logging.Formatter().format(record)))
    return out


def test_a_refused_and_a_missing_page_are_each_one_line(client, riverbend, caplog):
    client.force_login(riverbend.principal)
    with caplog.at_level(logging.INFO, logger="django.request"):
        assert client.get("/incidents/").status_code == 403
        assert client.get("/nope/").status_code == 404

    logged = _formatted(caplog)

    assert [level for level, _ in logged] == ["WARNING", "WARNING"]
    assert logged[0][1] == "Forbidden (Permission denied): /incidents/"
    assert logged[1][1] == "Not Found: /nope/"


def test_the_console_log_handler_filters_refusals():
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RefusalsWithoutTraceback) for h in handlers for f in h.filters)


def test_a_server_error_keeps_its_traceback():
    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "boom", (), None)
    record.status_code = 500
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RefusalsWithoutTraceback().filter(record)
    assert record.exc_info is not None


@override_settings(EMAIL_BACKEND="incident_console.logs.MailLog")
def test_the_mail_log_names_recipients_and_subject_never_the_body(caplog):
    with caplog.at_level(logging.INFO, logger="incident_console.mail"):
        sent = mail.send_mail(
            "Your question was answered", "PRIVATE QUESTION TEXT", None, ["p@example.org"]
        )

    assert sent == 1
    assert "p@example.org" in caplog.text and "Your question was answered" in caplog.text
    assert "PRIVATE QUESTION TEXT" not in caplog.text
