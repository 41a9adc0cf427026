"""Text limits have one source: the column that keeps the text.

Forms set ``max_length`` from it, so a browser stops at the limit; services check it again
with ``checked_text``, so a change that does not come through a form meets the same rule and
the same message.
"""

from __future__ import annotations

from django.db import models

from incidents.errors import Invalid


def limit(model: type[models.Model], field: str) -> int:
    """The most characters ``model.field`` keeps."""
    return model._meta.get_field(field).max_length


def checked_text(
    value: str | None,
    *,
    model: type[models.Model],
    field: str,
    label: str,
    missing: str | None = None,
) -> str:
    """``value`` stripped, with Windows line ends made plain.

    Raises ``Invalid`` with ``missing`` when the text is empty (unless ``missing`` is None: the
    text is optional), and with its length and the limit when it is longer than the column.
    """
    text = (value or "").replace("\r\n", "\n").strip()
    if not text and missing is not None:
        raise Invalid(missing)
    most = limit(model, field)
    if len(text) > most:
        raise Invalid(f"{label} is {len(text):,} characters; the limit is {most:,}. Shorten it.")
    return text


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula: text that starts like one gets a
    leading apostrophe. Phone numbers in E.164 (a plus sign and digits) are safe as they are."""
    if text[:1] in ("=", "@", "-", "\t", "\r") or (text[:1] == "+" and not text[1:].isdigit()):
        return "'" + text
    return text
