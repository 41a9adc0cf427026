"""Load demo districts, people and incidents. Safe to run again: it changes nothing twice."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from comms import drafts, facts
from comms.models import ApprovedParagraph, CommsPolicy, Draft, MessageTemplate
from exercises import services as exercises
from exercises.models import Exercise
from incidents import services
from incidents.duties import district_set_up
from incidents.models import District, Incident, Role, RoleGrant, School, System, User
from signin import services as signin_services
from signin.demo import DEMO_TOTP_SECRET

DEMO_PASSWORD = "console-demo"

# Paragraphs legal counsel approved ahead of time: a staff note made only of these goes out
# in the first hour of a student-data incident without waiting for review.
APPROVED_PARAGRAPHS = (
    "We are responding to a problem with district technology. Some student information may be "
    "involved. We are working to find out more.",
    "Please do not discuss details with families or the media. Send their questions to your "
    "school office, which has an answer to give them.",
    "We will send the next update {next_update}.",
)

TEMPLATES = {
    "staff": "Colleagues,\n\n{known}\n\nNot known yet: {unknown}\n\nWhat we are doing: "
    "{doing}\n\nWhat to do: {should_do}\n\nNext update {next_update}.",
    "families": "Dear families,\n\n{known}\n\nWhat you can do: {should_do}\n\n"
    "We will send the next update {next_update}.",
    "board": "Board members,\n\nStatus: {known}\n\nActions: {doing}\n\n"
    "Next briefing {next_update}.",
    "media": "{district}: {known} {doing} The next update will be posted {next_update}.",
}

SYSTEMS = [
    ("Student information system", System.Category.SIS),
    ("Learning platform", System.Category.LMS),
    ("Single sign-on", System.Category.IDENTITY),
    ("Wi-Fi and network", System.Category.NETWORK),
    ("Phone system", System.Category.PHONES),
    ("Bus routing", System.Category.TRANSPORT),
    ("Payroll", System.Category.PAYROLL),
    ("Family messaging", System.Category.MESSAGING),
]

# slug, name, time zone, schools, people: (username, first, last, roles, schools led)
DISTRICTS = [
    (
        "riverbend",
        "Riverbend Unified School District",
        "America/Chicago",
        [
            "Riverbend High School",
            "Cedar Middle School",
            "Maple Elementary",
            "Oak Hollow Elementary",
            "Northside Early Learning Center",
        ],
        [
            ("rb-cio", "Dana", "Whitfield", [Role.CIO], []),
            ("rb-comms", "Marcus", "Bell", [Role.COMMUNICATIONS], []),
            ("rb-academics", "Priya", "Raman", [Role.ACADEMICS], []),
            ("rb-legal", "Helen", "Ortiz", [Role.LEGAL], []),
            ("rb-tech", "Sam", "Kowalski", [Role.TECHNICAL], []),
            ("rb-board", "Gloria", "Tran", [Role.BOARD_LIAISON], []),
            (
                "rb-principal",
                "Andre",
                "Foster",
                [Role.PRINCIPAL],
                ["Riverbend High School", "Cedar Middle School"],
            ),
            ("rb-principal2", "Lucy", "Nguyen", [Role.PRINCIPAL], ["Maple Elementary"]),
            ("rb-translator", "Lucía", "Morales", [Role.TRANSLATOR], []),
            ("rb-facilitator", "Jordan", "Ellis", [Role.FACILITATOR], []),
        ],
    ),
    (
        "lakeshore",
        "Lakeshore Public Schools",
        "America/New_York",
        [
            "Lakeshore High School",
            "Harbor Middle School",
            "Pinewood Elementary",
            "Bayview Elementary",
        ],
        [
            ("ls-cio", "Kenneth", "Abbott", [Role.CIO], []),
            ("ls-comms", "Rosa", "Delgado", [Role.COMMUNICATIONS], []),
            ("ls-academics", "Omar", "Haddad", [Role.ACADEMICS], []),
            ("ls-legal", "Julia", "Brandt", [Role.LEGAL], []),
            ("ls-tech", "Wei", "Chen", [Role.TECHNICAL], []),
            ("ls-board", "Frank", "Morales", [Role.BOARD_LIAISON], []),
            ("ls-principal", "Tasha", "Greene", [Role.PRINCIPAL], ["Harbor Middle School"]),
            ("ls-translator", "Amina", "Yusuf", [Role.TRANSLATOR], []),
            ("ls-facilitator", "Nadia", "Park", [Role.FACILITATOR], []),
        ],
    ),
]


class Command(BaseCommand):
    help = f"Load two demo districts with one user per role (password: {DEMO_PASSWORD})."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load demo data even with DEBUG off. Never do this on a district's console.",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo users with DEBUG off: they share a public password. "
                "Use --force only on a throwaway console."
            )
        with transaction.atomic():
            for slug, name, zone, school_names, people in DISTRICTS:
                self._district(slug, name, zone, school_names, people)
            self._policies()
            self._incidents()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Password for every demo user: {DEMO_PASSWORD}; "
                "authenticator code: run `manage.py demo_code`."
            )
        )

    def _district(self, slug, name, zone, school_names, people) -> None:
        district, _ = District.objects.update_or_create(
            slug=slug, defaults={"name": name, "time_zone": zone}
        )
        district_set_up(district=district)
        schools = {
            n: School.objects.get_or_create(district=district, name=n)[0] for n in school_names
        }
        for system_name, category in SYSTEMS:
            System.objects.get_or_create(
                district=district, name=system_name, defaults={"category": category}
            )
        for username, first, last, roles, led in people:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "district": district,
                    "email": f"{username}@example.org",
                },
            )
            if created or not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            # Password sign-in asks for an authenticator code: `manage.py demo_code` prints it.
            signin_services.totp_ensure(user=user, secret=DEMO_TOTP_SECRET)
            for role in roles:
                RoleGrant.objects.get_or_create(user=user, role=role)
            user.schools.add(*[schools[n] for n in led])

    def _incidents(self) -> None:
        # Riverbend's tabletop waits for its facilitator: the scenario is loaded with its
        # clock stopped at 0:00, and starts when the facilitator presses Start.
        if not Exercise.objects.filter(district__slug="riverbend").exists():
            facilitator = User.objects.get(username="rb-facilitator")
            exercises.exercise_start(by=facilitator, source="sis-report-card-day", ready=True)
        title = "Phones down at Harbor Middle School"
        if not Incident.objects.filter(title=title).exists():
            cio = User.objects.get(username="ls-cio")
            phones = services.incident_open(
                by=cio,
                title=title,
                kind=Incident.Kind.PHONES,
                severity=Incident.Severity.MODERATE,
                systems=System.objects.filter(district=cio.district, category="phones"),
                all_schools=False,
                schools=School.objects.filter(district=cio.district, name="Harbor Middle School"),
                impacts=[Incident.Impact.SAFETY, Incident.Impact.OPERATIONS],
            )
            self._messages(phones, User.objects.get(username="ls-comms"))

    def _policies(self) -> None:
        for slug, prefix in (("riverbend", "rb"), ("lakeshore", "ls")):
            district = District.objects.get(slug=slug)
            policy, _ = CommsPolicy.objects.get_or_create(district=district)
            if not policy.email_lists:
                # Setting the district up made the policy with the defaults; the demo's own
                # values go on it once, and a change made in District setup stays.
                policy.legal_audiences = ["media"]
                policy.student_data_needs_legal = True
                policy.notice_days = [30, 60]
                policy.email_lists = {"staff": f"allstaff@{slug}.example.org"}
                # Riverbend writes to families in Spanish too; Lakeshore in English only.
                policy.languages = ["es"] if slug == "riverbend" else []
                policy.save()
            for audience, body in TEMPLATES.items():
                MessageTemplate.objects.get_or_create(
                    district=district, kind="any", audience=audience, defaults={"body": body}
                )
            counsel = User.objects.get(username=f"{prefix}-legal")
            for text in APPROVED_PARAGRAPHS:
                ApprovedParagraph.objects.get_or_create(
                    district=district, text=text, defaults={"approved_by": counsel}
                )

    def _approved(self, draft: Draft, comms: User) -> Draft:
        """Submit, clear by the district's counsel where the rules say, and approve."""
        draft = drafts.draft_submit(draft=draft, by=comms, expected_revision=draft.revision)
        if draft.state == Draft.State.LEGAL_REVIEW:
            legal = User.objects.get(username="ls-legal")
            draft = drafts.draft_legal_clear(
                draft=draft, by=legal, expected_revision=draft.revision
            )
        return drafts.draft_approve(draft=draft, by=comms, expected_revision=draft.revision)

    def _messages(self, incident: Incident, comms: User) -> None:
        """A fact sheet, a published staff email and a public web update."""
        # The text names the same next-update time that the update promises and the page shows.
        promised = timezone.now() + timedelta(minutes=55)
        local = timezone.localtime(promised, incident.district.zone)
        facts.fact_sheet_revise(
            incident=incident,
            by=comms,
            expected_number=0,
            known="Phones at Harbor Middle School cannot make or receive calls.",
            unknown="When the phone lines will be repaired.",
            doing="The phone company has a technician on the way.",
            should_do="Reach the school office by email; in an emergency call 911 as usual.",
            next_update=f"by {local:%-I:%M %p}".replace(":00 ", " "),
        )
        # The public title the status page and outward messages use, reviewed like a message.
        heading = drafts.heading_draft_create(incident=incident, by=comms)
        heading = drafts.draft_edit(
            draft=heading,
            by=comms,
            body="Phones out at Harbor Middle School\n\n"
            "The school's phones cannot make or receive calls; reach the office by email.",
            expected_revision=1,
        )
        self._approved(heading, comms)
        drafts.heading_publish(draft=heading, by=comms, expected_revision=heading.revision)
        for audience, channel in [("staff", "email"), ("media", "web")]:
            draft = drafts.draft_create(
                incident=incident, by=comms, audience=audience, channel=channel
            )
            self._approved(draft, comms)
            drafts.draft_publish(
                draft=draft,
                by=comms,
                expected_revision=1,
                promised_next_at=promised,
            )
