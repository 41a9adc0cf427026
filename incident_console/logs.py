"""Logging and the mail log: what the console writes about requests and messages."""

from __future__ import annotations

import logging

from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger("incident_console.mail")


class RefusalsWithoutTraceback(logging.Filter):
    """A refused request (a 4xx: no access, not found) is one line. Its traceback only says
    where the refusal was raised, and buries the 5xx tracebacks that matter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class MailLog(BaseEmailBackend):
    """Where mail goes when no mail server is set and DEBUG is off: one log line per message,
    naming its recipients and subject but never its body, which may hold a principal's
    question or a draft's text."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            log.info(
                "mail not sent (no EMAIL_URL): to %s: %s",
                ", ".join(message.recipients()),
                message.subject,
            )
        return len(email_messages)
