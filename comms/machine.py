"""Machine translation, for a first draft a person then checks: never sent anywhere.

``TRANSLATION_PROVIDER`` names the provider:

- ``comms.machine.NoTranslation`` (the default): people translate; the page offers no
  machine draft.
- ``comms.machine.ArgosTranslation``: Argos Translate on the district's own server, with the
  language models the district installed from files (``argospm install`` or
  ``argostranslate.package.install_from_path``); nothing is downloaded at run time and no
  text leaves the server. ``pip install argostranslate`` first.
- ``comms.machine.RecordingTranslation``: for tests, records each call.

What a provider writes is saved as a machine draft: it cannot be approved unedited without
the communications lead confirming that a reader of the language checked it.
"""

from __future__ import annotations

import threading
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class Unavailable(Exception):
    """The provider cannot translate this pair of languages here; the message says why."""


class TranslationProvider(Protocol):
    name: str

    def translate(self, text: str, *, source: str, target: str) -> str: ...


class NoTranslation:
    name = ""

    def translate(self, text: str, *, source: str, target: str) -> str:
        raise Unavailable("No machine translation is set up: a person writes the translation.")


class ArgosTranslation:
    """Argos Translate with models installed on this server."""

    name = "Argos Translate, on this server"

    def translate(self, text: str, *, source: str, target: str) -> str:
        try:
            from argostranslate import translate
        except ImportError:
            raise Unavailable(
                "Argos Translate is not installed on this server (pip install argostranslate)."
            ) from None
        installed = {lang.code: lang for lang in translate.get_installed_languages()}
        pair = installed.get(source) and installed[source].get_translation(
            installed.get(target.split("-")[0])
        )
        if not pair:
            raise Unavailable(
                f"No Argos model from {source} to {target} is installed on this server; "
                "install its .argosmodel file with argospm."
            )
        return pair.translate(text)


class RecordingTranslation:
    """A provider for tests: answers ``[target] text`` and records every call."""

    name = "the recording provider"
    calls: list[dict] = []
    _lock = threading.Lock()

    def translate(self, text: str, *, source: str, target: str) -> str:
        with self._lock:
            type(self).calls.append({"text": text, "source": source, "target": target})
        return f"[{target}] {text}"


def provider() -> TranslationProvider:
    return import_string(settings.TRANSLATION_PROVIDER)()


def available() -> str:
    """The provider's name, or "" when people translate."""
    return provider().name
