"""What the incident core announces, for the layers above it to act on.

The core (districts, incidents, roles, guidance, the timeline) imports neither the
communications app nor the live push. Where they act on something that happens here, the core
sends a signal and they connect a receiver when Django starts: the communications app starts an
incident's clocks and queues messages in its outbox, the console pushes committed changes to
open pages. Receivers run synchronously, inside the sender's transaction, so what they save is
saved or rolled back with the change itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.dispatch import Signal

# A district was created (``duties.district_set_up``). Argument: district.
district_created = Signal()

# An incident was declared. Arguments: incident, duties (its duty rows, with their due times).
# A receiver may answer with a dict of what the declaration's timeline row should also record
# (the update clocks' first promises, ``first_promises``).
incident_opened = Signal()

# People of an incident are to be told something on every channel they have.
# Arguments: incident, recipients, subject, body.
people_told = Signal()

# A person's roles or district changed: their open pages must reconnect and be checked again.
# Sent after commit. Argument: user_id.
access_changed = Signal()

# Incidents changed and the change is committed. Argument: changed, a dict mapping each changed
# incident's id to the first sequence number the change gave it.
changes_committed = Signal()


def tell(*, incident, recipients, subject: str, body: str) -> None:
    """Queue a message to each of ``recipients`` in the caller's transaction."""
    people_told.send(
        sender=None, incident=incident, recipients=recipients, subject=subject, body=body
    )


def access_changed_on_commit(user_id: int) -> None:
    transaction.on_commit(lambda: access_changed.send(sender=None, user_id=user_id))


def announce(changed: dict[int, int]) -> None:
    """Tell the layers above that these committed changes happened."""
    if changed:
        changes_committed.send(sender=None, changed=changed)


def _pending() -> dict[int, int]:
    """Incidents changed in the current transaction, with the first new sequence number."""
    connection = transaction.get_connection()
    pending = getattr(connection, "incident_changes", None)
    if pending is None:
        pending = connection.incident_changes = {}
    elif not any(entry[1] is _flush for entry in connection.run_on_commit):
        # No flush is waiting: whatever is here belonged to a transaction that rolled back.
        pending.clear()
    return pending


_collecting = threading.local()


@contextmanager
def collected() -> Iterator[dict[int, int]]:
    """Within this block, changes are gathered instead of announced after each commit.

    The timer sweep fires many deadlines in a row, each in its own transaction; it collects
    the incidents it touched and announces them once at the end.
    """
    _collecting.changes = changes = {}
    try:
        yield changes
    finally:
        _collecting.changes = None


def changed_on_commit(*, incident_id: int, sequence: int) -> None:
    """Announce the incident's change once the transaction commits.

    Several timeline rows in one transaction make one announcement, covering all their
    sequence numbers, so a page never sees a gap that is not one.
    """
    changes = getattr(_collecting, "changes", None)
    if changes is not None:
        changes.setdefault(incident_id, sequence)
        return
    _pending().setdefault(incident_id, sequence)
    # One callback per row, but the first to run announces everything the transaction changed
    # and the rest find nothing left.
    transaction.on_commit(_flush)


def _flush() -> None:
    pending = getattr(transaction.get_connection(), "incident_changes", {})
    changed = dict(pending)
    pending.clear()
    announce(changed)
