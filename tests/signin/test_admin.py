"""The sign-in record is read-only in the admin, even for a superuser."""

from signin.models import SecurityEvent


def test_the_sign_in_record_cannot_be_added_changed_or_deleted(client, riverbend):
    event = SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.SIGNED_IN, user=riverbend.cio, method="password"
    )
    admin = riverbend.cio
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(admin)
    base = "/admin/signin/securityevent/"

    assert client.get(base).status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"{base}{event.pk}/change/", {"kind": SecurityEvent.Kind.REFUSED})
    event.refresh_from_db()
    assert event.kind == SecurityEvent.Kind.SIGNED_IN
    assert SecurityEvent.objects.count() == 1
