"""The signed-in person, as every request and every socket loads them.

Every page shows the person's district, what their roles let them open and their unread
count. Loaded apart, that is four queries before the page reads anything of its own; the
backends here load the person with all three in one.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend
from django.db.models import Aggregate, CharField, Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from comms.models import Notification
from incidents.models import RoleGrant, User


class RoleCodes(Aggregate):
    """A column's values in one comma-separated text: ``string_agg`` on PostgreSQL,
    ``group_concat`` on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def people():
    """People with their district, ``role_codes`` and ``unread_in_app`` in one query."""
    roles = (
        RoleGrant.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(codes=RoleCodes("role"))
        .values("codes")
    )
    unread = (
        Notification.objects.filter(
            recipient=OuterRef("pk"), channel=Notification.Channel.IN_APP, read_at__isnull=True
        )
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return User._default_manager.select_related("district").annotate(
        role_codes=Subquery(roles, output_field=CharField()),
        unread_in_app=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
    )


def person(user_id) -> User | None:
    """The person ``user_id``, loaded as ``people`` does, with their roles and unread count
    kept on them for the request."""
    user = people().filter(pk=user_id).first()
    if user is None:
        return None
    user._roles_cache = frozenset(code for code in (user.role_codes or "").split(",") if code)
    user._unread_cache = user.unread_in_app
    return user


class PersonLoading:
    def get_user(self, user_id):
        user = person(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PersonBackend(PersonLoading, ModelBackend):
    """Django's own backend, loading the person with ``person``."""


class PersonAllauthBackend(PersonLoading, AuthenticationBackend):
    """allauth's backend, loading the person with ``person``."""
