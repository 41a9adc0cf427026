"""The table of the console's cache (settings.CACHES): sign-in failure counts, used one-time
codes, the last push of each incident. Created here so that every way the console is set up
runs it with the other migrations."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_user_session_epoch")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
