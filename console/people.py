"""The signed-in person, as every request and every socket loads them.

Every page shows the person's district, what their roles let them open and their unread
count. Loaded apart, that is four queries before the page reads anything of its own; the
backends here load the person with all three in one.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from comms.models import Notification
from incidents.models import RoleGrant, User


def _column(model, field: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(field).column)}"


def people() -> QuerySet[User]:
    """People with their district, ``role_codes`` and ``unread_in_app`` in one query.

    The roles and the count are subqueries written in SQL: built with the ORM's aggregates
    they cost a millisecond of Python to compile on every request, more than the query."""
    # Every name is from the models' metadata, quoted; the one value is a parameter.
    quote = connection.ops.quote_name
    joined = "group_concat(%s, ',')" if connection.vendor == "sqlite" else "string_agg(%s, ',')"
    grants, user_id = quote(RoleGrant._meta.db_table), _column(User, "id")
    codes, holder = joined % _column(RoleGrant, "role"), _column(RoleGrant, "user")
    roles = f"SELECT {codes} FROM {grants} WHERE {holder} = {user_id}"  # noqa: S608
    inbox, recipient = quote(Notification._meta.db_table), _column(Notification, "recipient")
    channel, read_at = _column(Notification, "channel"), _column(Notification, "read_at")
    unread = (
        f"SELECT COUNT(*) FROM {inbox} WHERE {recipient} = {user_id}"  # noqa: S608
        f" AND {channel} = %s AND {read_at} IS NULL"
    )
    return User._default_manager.select_related("district").annotate(
        role_codes=RawSQL(roles, ()),  # noqa: S611
        unread_in_app=RawSQL(unread, (Notification.Channel.IN_APP,)),  # noqa: S611
    )


def person(user_id) -> User | None:
    """The person ``user_id``, loaded as ``people`` does, with their roles kept on them for
    the request."""
    user = people().filter(pk=user_id).first()
    if user is None:
        return None
    user._roles_cache = frozenset(code for code in (user.role_codes or "").split(",") if code)
    return user


class PersonLoading:
    def get_user(self, user_id):
        user = person(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PersonBackend(PersonLoading, ModelBackend):
    """Django's own backend, loading the person with ``person``."""


class PersonAllauthBackend(PersonLoading, AuthenticationBackend):
    """allauth's backend, loading the person with ``person``."""
