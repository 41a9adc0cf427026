"""On PostgreSQL, refuse UPDATE and DELETE on timeline rows in the database itself.

The model already refuses them through the ORM; the trigger also stops raw SQL, the admin
shell and any future code path, so the audit trail holds whatever the application does.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION incidents_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'timeline rows are append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER incidents_timeline_append_only
    BEFORE UPDATE OR DELETE ON incidents_timelineentry
    FOR EACH ROW EXECUTE FUNCTION incidents_timeline_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS incidents_timeline_append_only ON incidents_timelineentry;
DROP FUNCTION IF EXISTS incidents_timeline_append_only();
"""


def _run(schema_editor, sql: str) -> None:
    # A plain cursor: no parameters, so the '%' in the PL/pgSQL message is left alone.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def forwards(apps, schema_editor):
    _run(schema_editor, CREATE)


def backwards(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
