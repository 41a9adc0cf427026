"""Start a district's running tabletop exercise again from the beginning of its scenario."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from exercises import services
from exercises.models import Exercise


class Command(BaseCommand):
    help = "Reset the running exercise: a new play of the same scenario; the old one is kept."

    def add_arguments(self, parser):
        parser.add_argument("--district", help="The district's short name (slug).")

    def handle(self, *args, district: str | None = None, **options):
        running = Exercise.objects.filter(ended_at__isnull=True).select_related(
            "district", "facilitator", "incident"
        )
        if district:
            running = running.filter(district__slug=district)
        plays = list(running)
        if not plays:
            raise CommandError(
                "No exercise is running"
                + (f" in {district}" if district else "")
                + ": start one on the Exercises page."
            )
        if len({p.district_id for p in plays}) > 1:
            names = ", ".join(sorted({p.district.slug for p in plays}))
            raise CommandError(f"Exercises run in several districts; name one: --district {names}")
        for play in plays:
            fresh = services.exercise_reset(exercise=play, by=play.facilitator)
            self.stdout.write(
                f"{play.district.name}: “{fresh.incident.title}” is back at its beginning, "
                "its clock waiting at 0:00: press Start on the Exercises page. The earlier "
                "play is kept for its report."
            )
