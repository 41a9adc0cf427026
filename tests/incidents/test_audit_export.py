import csv
import io
import json

import pytest

from incidents import services
from incidents.models import Role


@pytest.fixture
def incident(riverbend):
    incident = services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    services.incident_role_assign(
        incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
    )
    return incident


def test_legal_exports_the_timeline_as_csv(client, incident, riverbend):
    client.force_login(riverbend.legal)

    response = client.get(f"/incidents/{incident.pk}/timeline.csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Disposition"].endswith('.csv"')
    assert [r["kind"] for r in rows] == ["incident.opened", "role.assigned"]
    assert json.loads(rows[1]["payload"])["function"] == "legal"


def test_legal_exports_the_timeline_as_json(client, incident, riverbend):
    client.force_login(riverbend.legal)

    body = client.get(f"/incidents/{incident.pk}/timeline.json").json()

    assert body["incident"] == incident.pk
    assert [e["sequence"] for e in body["timeline"]] == [1, 2]


@pytest.mark.parametrize("role", ["comms", "academics", "technical", "board", "principal"])
def test_other_roles_cannot_export(client, incident, riverbend, role):
    client.force_login(getattr(riverbend, role))

    assert client.get(f"/incidents/{incident.pk}/timeline.csv").status_code == 403


def test_another_district_cannot_export(client, incident, lakeshore):
    client.force_login(lakeshore.cio)

    assert client.get(f"/incidents/{incident.pk}/timeline.json").status_code == 404


def test_unknown_format_is_not_found(client, incident, riverbend):
    client.force_login(riverbend.legal)

    assert client.get(f"/incidents/{incident.pk}/timeline.xml").status_code == 404


def test_check_deploy_reports_nothing_under_production_settings():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k7#P2q!x9Lm4vR8tZ1wB6nC3yH5jD0fG2sA7eQ9uK4iO1pT6-Xw8Zr",
        "ALLOWED_HOSTS": "console.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
