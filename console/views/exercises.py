"""The facilitator's control page: start a scenario, move its clock, reset or end it, and
watch what every role has done. For the district's facilitators and its CIO."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from console.views.answers import attempt, back_to
from exercises import report as report_figures
from exercises import scenarios, services
from exercises.models import Exercise
from exercises.scenarios import ScenarioError
from incidents.models import RESPONSE_TEAM_ROLES, Incident, Role, TimelineEntry, User

# How many of the latest steps the live view lists.
RECENT_STEPS = 12


class StartForm(forms.Form):
    source = forms.CharField(max_length=100)
    speed = forms.IntegerField(
        min_value=Incident.MIN_TIME_SCALE,
        max_value=Incident.MAX_TIME_SCALE,
        error_messages={
            "required": "Give the exercise clock speed, from 1 to 3600 times real time.",
            "min_value": "Give the exercise clock speed, from 1 to 3600 times real time.",
            "max_value": "Give the exercise clock speed, from 1 to 3600 times real time.",
            "invalid": "Give the exercise clock speed as a whole number, from 1 to 3600.",
        },
    )


class SpeedForm(forms.Form):
    speed = StartForm.base_fields["speed"]


class ScenarioForm(forms.Form):
    # The console takes no file uploads: the file's text is pasted, or read into the box
    # by the page's script when a file is chosen.
    text = forms.CharField(
        label="The scenario (YAML or JSON)",
        max_length=scenarios.MAX_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        error_messages={
            "required": "Paste the scenario, or choose its file, before adding it.",
            "max_length": "The scenario is longer than 200,000 characters; split it in two.",
        },
    )


def _facilitator(request: HttpRequest) -> User:
    user = request.user
    if not services.may_facilitate(user) or not user.district_id:
        raise PermissionDenied("The exercise controls are for facilitators and the CIO.")
    return user


def _exercise(user: User, exercise_id: int) -> Exercise:
    found = (
        Exercise.objects.select_related("incident", "facilitator")
        .filter(pk=exercise_id, district_id=user.district_id)
        .first()
    )
    if found is None:
        raise Http404("This district has no exercise with that number.")
    return found


def _who(actor_id: int | None, kind: str, team: dict[int, str], facilitator_id: int) -> str:
    """Who took a step, by their part in the play."""
    if actor_id is None:
        return "The exercise" if kind.startswith("exercise.") else "The console"
    if actor_id in team:
        return team[actor_id]
    return "Facilitator" if actor_id == facilitator_id else "Principals and others"


def _block(exercise: Exercise, now) -> dict:
    """What the control page shows of one running exercise."""
    incident = exercise.incident
    clock = incident.clock(now)
    injects = list(exercise.injects.all())
    team = {incident.owner_id: Role.CIO.label}
    for role in incident.role_set.all():
        team.setdefault(role.user_id, Role(role.function).label)

    def who(actor_id, kind):
        return _who(actor_id, kind, team, exercise.facilitator_id)

    steps = list(
        TimelineEntry.objects.filter(incident=incident)
        .exclude(kind="exercise.inject")
        .order_by("-sequence")[:RECENT_STEPS]
    )
    # What people did once the play began: the declaration's own steps are not theirs.
    started = (
        TimelineEntry.objects.filter(incident=incident, kind="exercise.started")
        .values_list("sequence", flat=True)
        .first()
    ) or 0
    done = Counter(
        who(actor_id, kind)
        for actor_id, kind in TimelineEntry.objects.filter(
            incident=incident, actor__isnull=False, sequence__gt=started
        )
        .exclude(kind__startswith="exercise.")
        .values_list("actor_id", "kind")
    )
    upcoming = next((i for i in injects if i.fired_at is None), None)
    return {
        "exercise": exercise,
        "incident": incident,
        "clock": clock,
        "ready": clock.paused and clock.elapsed.total_seconds() == 0,
        "injects": injects,
        "upcoming": upcoming,
        "steps": [(entry, who(entry.actor_id, entry.kind)) for entry in steps],
        "done": sorted(done.items()),
        "now": now,
    }


@login_required
@require_GET
def control(request: HttpRequest) -> HttpResponse:
    user = _facilitator(request)
    now = timezone.now()
    district = user.district
    try:
        choices = services.scenarios_for(district)
        broken = ""
    except ScenarioError as error:
        choices, broken = [], f"A scenario of this district cannot be read: {error.problems[0]}"
    ended = (
        Exercise.objects.filter(district=district, ended_at__isnull=False)
        .select_related("incident")
        .order_by("-ended_at")[:10]
    )
    return render(
        request,
        "exercises/control.html",
        {
            "blocks": [_block(e, now) for e in services.running(district)],
            "scenarios": choices,
            "broken": broken,
            "ended": ended,
            "start_form": StartForm(initial={"speed": 60}),
            "scenario_form": ScenarioForm(),
            "now": now,
        },
    )


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    user = _facilitator(request)
    form = StartForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return back_to(request, first, "", "exercises:control")
    started = attempt(
        lambda: services.exercise_start(
            by=user, source=form.cleaned_data["source"], speed=form.cleaned_data["speed"]
        )
    )
    return back_to(
        request,
        started.error,
        "The exercise has started: its clock is running and the injects will arrive on it.",
        "exercises:control",
    )


ACTIONS = {
    "pause": (services.exercise_pause, "The exercise clock is paused."),
    "resume": (services.exercise_resume, "The exercise clock is running again."),
    "jump": (services.exercise_jump, "The clock moved ahead to the next inject."),
    "end": (services.exercise_end, "The exercise has ended; its report is ready."),
    "reset": (services.exercise_reset, "The scenario starts again from its beginning."),
}


@login_required
@require_POST
def act(request: HttpRequest, exercise_id: int, action: str) -> HttpResponse:
    user = _facilitator(request)
    exercise = _exercise(user, exercise_id)
    if action == "speed":
        form = SpeedForm(request.POST)
        if not form.is_valid():
            return back_to(request, form.errors["speed"][0], "", "exercises:control")
        speed = form.cleaned_data["speed"]
        done = attempt(lambda: services.exercise_speed(exercise=exercise, by=user, speed=speed))
        return back_to(
            request, done.error, f"The clock now runs {speed}× real time.", "exercises:control"
        )
    if action not in ACTIONS:
        raise Http404("There is no such exercise control.")
    service, message = ACTIONS[action]
    done = attempt(lambda: service(exercise=exercise, by=user))
    return back_to(request, done.error, message, "exercises:control")


@login_required
@require_POST
def scenario_upload(request: HttpRequest) -> HttpResponse:
    user = _facilitator(request)
    form = ScenarioForm(request.POST)
    if not form.is_valid():
        return _refused_upload(request, form, [form.errors["text"][0]])
    try:
        added = attempt(
            lambda: services.scenario_add(
                district=user.district, by=user, text=form.cleaned_data["text"], name="It"
            )
        )
    except ScenarioError as error:
        return _refused_upload(request, form, error.problems)
    if added.error:
        return _refused_upload(request, form, [added.error])
    return back_to(request, None, f"“{added.value.title}” is ready to play.", "exercises:control")


def _refused_upload(request, form: ScenarioForm, problems: list[str]) -> HttpResponse:
    """The problems, and the text as it was sent, to fix and send again."""
    return render(
        request,
        "exercises/upload_refused.html",
        {"problems": problems, "scenario_form": form},
        status=422,
    )


def _reader(request: HttpRequest) -> User:
    """The facilitator, the CIO and the response team read a play's report."""
    user = request.user
    if not (services.may_facilitate(user) or user.has_role(*RESPONSE_TEAM_ROLES)):
        raise PermissionDenied("The exercise reports are for the facilitator and the team.")
    return user


@login_required
@require_GET
def report(request: HttpRequest, exercise_id: int, fmt: str = "html") -> HttpResponse:
    """The after-action report: a printable page, or its figures as CSV or JSON."""
    user = _reader(request)
    exercise = _exercise(user, exercise_id)
    built = services.report_for(exercise, timezone.now())
    name = f"exercise-{exercise.pk}-report"
    if fmt == "json":
        response = JsonResponse(report_figures.figures(built), json_dumps_params={"indent": 2})
    elif fmt == "csv":
        response = HttpResponse(
            report_figures.as_csv(built), content_type="text/csv; charset=utf-8"
        )
    else:
        return render(
            request,
            "exercises/report.html",
            {"report": built, "exercise": exercise, "incident": exercise.incident},
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
