"""Serving a room: demo mode's sign-in buttons exist only in demo mode, demo mode refuses
to run with DEBUG off, and the reset command starts the scenario again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from exercises import services
from exercises.models import Exercise


def test_without_demo_mode_there_is_no_button_and_the_route_is_not_found(riverbend, settings):
    settings.DEMO_MODE = False
    client = Client()

    page = client.get("/accounts/login/").content.decode()
    answer = client.post(f"/accounts/demo/{riverbend.cio.pk}/")

    assert "Sign in as" not in page
    assert answer.status_code == 404
    assert "_auth_user_id" not in client.session


def test_in_demo_mode_each_person_is_one_button(riverbend, settings):
    settings.DEMO_MODE = True
    client = Client()

    page = client.get("/accounts/login/").content.decode()
    answer = client.post(f"/accounts/demo/{riverbend.comms.pk}/")

    assert f"Sign in as {riverbend.cio.get_full_name()}, CIO" in page
    assert "Exercise facilitator" in page
    assert answer.status_code == 302 and answer.url == "/"
    assert client.session["_auth_user_id"] == str(riverbend.comms.pk)
    assert client.get("/").url == "/comms/"


def test_demo_sign_in_takes_only_a_post(riverbend, settings):
    settings.DEMO_MODE = True
    assert Client().get(f"/accounts/demo/{riverbend.cio.pk}/").status_code == 405


def test_demo_sign_in_of_nobody_is_not_found(db, settings):
    settings.DEMO_MODE = True
    assert Client().post("/accounts/demo/999999/").status_code == 404


@pytest.mark.parametrize(
    ("environment", "starts"),
    [({"DEBUG": "true", "DEMO_MODE": "true"}, True), ({"DEMO_MODE": "true"}, False)],
)
def test_demo_mode_refuses_to_run_with_debug_off(environment, starts):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DEMO_MODE", "SECRET_KEY")}
    env.update(environment, ALLOWED_HOSTS="console.example.org", SECRET_KEY="x" * 60)
    run = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert (run.returncode == 0) is starts, run.stderr
    if not starts:
        assert "DEMO_MODE signs anyone in" in run.stderr


def test_the_room_address_command_says_how_to_let_the_room_in(settings, capsys):
    settings.ROOM = False
    call_command("room_addresses", "--port", "8000")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/" in out
    assert "make run HOST=0.0.0.0" in out


def test_the_reset_command_plays_the_scenario_again(riverbend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.exercise_start(by=riverbend.facilitator, source="network-phones-down")
        call_command("exercise_reset", "--district", "riverbend")

    first.refresh_from_db()
    assert first.ended_at is not None
    fresh = Exercise.objects.get(ended_at__isnull=True)
    assert first.replaced_by == fresh
    assert fresh.incident.clock().paused


def test_the_reset_command_without_an_exercise_says_what_to_do(db):
    with pytest.raises(CommandError, match="No exercise is running"):
        call_command("exercise_reset")


def test_a_scenario_file_is_added_from_the_command_line(riverbend, tmp_path, capsys):
    from exercises.models import DistrictScenario
    from exercises.scenarios import SHIPPED

    source = (SHIPPED / "network-phones-down.yaml").read_text()
    good = tmp_path / "ours.yaml"
    good.write_text(source.replace("Exercise: network", "Our drill: network"))
    call_command("exercise_scenario_add", str(good), "--district", "riverbend")
    assert DistrictScenario.objects.get().title.startswith("Our drill")

    bad = tmp_path / "bad.yaml"
    bad.write_text(source.replace("severity: 1", "severity: high"))
    with pytest.raises(CommandError, match="line 9: severity: 'high' is not one of"):
        call_command("exercise_scenario_add", str(bad), "--district", "riverbend")
    assert DistrictScenario.objects.count() == 1
