"""Add a district's own tabletop scenario from a YAML or JSON file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exercises import services
from exercises.scenarios import ScenarioError
from incidents.errors import DomainError
from incidents.models import District, Role, User


class Command(BaseCommand):
    help = "Check a scenario file and add it to a district's exercises."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--district", required=True, help="The district's short name.")

    def handle(self, *args, file: Path, district: str, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"There is no district {district!r}.")
        by = (
            User.objects.filter(district=found, role_grants__role__in=[Role.FACILITATOR, Role.CIO])
            .order_by("pk")
            .first()
        )
        if by is None:
            raise CommandError(f"{found.name} has no facilitator or CIO to add it in their name.")
        try:
            text = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            added = services.scenario_add(district=found, by=by, text=text, name=file.name)
        except ScenarioError as error:
            raise CommandError(f"{file} cannot be played:\n" + "\n".join(error.problems)) from None
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{found.name} can now play “{added.title}”.")
