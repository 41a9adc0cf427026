"""Domain errors raised by services; views turn them into plain messages."""


class DomainError(Exception):
    """A rule of the domain refused the change. The message is shown to the user."""

    status_code = 400


class Refused(DomainError):
    """The person asking may not make this change."""

    status_code = 403


class Invalid(DomainError):
    """The change is allowed in principle, but the values given break a rule."""

    status_code = 422


class Conflict(Invalid):
    """The thing changed since the person looked at it (a newer revision, another state)."""

    status_code = 409


class PromiseDiffers(Invalid):
    """The text of an update names another next-update time than the one being promised."""
