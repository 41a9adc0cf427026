import pytest
from django.db import DatabaseError, connection, transaction

from incidents.models import AppendOnlyError, TimelineEntry
from incidents.timeline import timeline_append
from tests.factories import IncidentFactory


@pytest.fixture
def entry(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    return timeline_append(incident=incident, kind="note", summary="First", actor=riverbend.cio)


def test_sequence_numbers_are_consecutive(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)

    entries = [timeline_append(incident=incident, kind="note", summary=str(i)) for i in range(3)]

    assert [e.sequence for e in entries] == [1, 2, 3]
    incident.refresh_from_db()
    assert incident.sequence == 3


def test_a_row_cannot_be_saved_again(entry):
    entry.summary = "Rewritten"

    with pytest.raises(AppendOnlyError):
        entry.save()

    assert TimelineEntry.objects.get(pk=entry.pk).summary == "First"


def test_a_row_cannot_be_deleted(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()

    assert TimelineEntry.objects.filter(pk=entry.pk).exists()


def test_a_queryset_cannot_update_or_delete(entry):
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.filter(pk=entry.pk).update(summary="Rewritten")
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.all().delete()

    assert TimelineEntry.objects.get(pk=entry.pk).summary == "First"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE incidents_timelineentry SET summary = 'Rewritten'",
        "DELETE FROM incidents_timelineentry",
    ],
)
def test_postgresql_refuses_raw_sql_changes(entry, sql):
    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only; run with DATABASE_URL set")

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert TimelineEntry.objects.get(pk=entry.pk).summary == "First"
