"""Sessions signed in before the console's own authentication backends (console.people)
name the backends they replaced; each is renamed, so nobody is signed out by the upgrade."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations
from django.utils import timezone

RENAMED = {
    "django.contrib.auth.backends.ModelBackend": "console.people.PersonBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "console.people.PersonAllauthBackend",
}


def rename(apps, names: dict[str, str]) -> None:
    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    live = Session.objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator():
        data = store.decode(session.session_data)
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in names:
            data[BACKEND_SESSION_KEY] = names[backend]
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


def forwards(apps, schema_editor):
    rename(apps, RENAMED)


def backwards(apps, schema_editor):
    rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0003_security_event_account_attacked"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
