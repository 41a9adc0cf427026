"""Districts created before the checklist was saved at creation get the default one now."""

from django.db import migrations

from incidents.duties import DEFAULT_DUTIES


def add_checklists(apps, schema_editor):
    District = apps.get_model("incidents", "District")
    DutyTemplate = apps.get_model("incidents", "DutyTemplate")
    DutyTemplate.objects.bulk_create(
        DutyTemplate(district=district, title=title, due_minutes=minutes, trigger=trigger)
        for district in District.objects.filter(duties__isnull=True)
        for title, minutes, trigger in DEFAULT_DUTIES
    )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_guidance_decisions_review")]

    operations = [migrations.RunPython(add_checklists, migrations.RunPython.noop)]
