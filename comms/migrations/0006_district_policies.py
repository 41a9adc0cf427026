"""Districts created before the policy was saved at creation get the default one now."""

from django.db import migrations


def add_policies(apps, schema_editor):
    District = apps.get_model("incidents", "District")
    CommsPolicy = apps.get_model("comms", "CommsPolicy")
    CommsPolicy.objects.bulk_create(
        CommsPolicy(district=district)
        for district in District.objects.filter(policy__isnull=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0005_draft_withdraw_reason"),
        ("incidents", "0004_district_checklists"),
    ]

    operations = [migrations.RunPython(add_policies, migrations.RunPython.noop)]
