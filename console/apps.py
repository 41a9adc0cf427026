from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """What a person's browser talks to: the pages, the dashboards and their live pushes.

    It sits above the incident core and the communications app and imports both; neither
    imports it. It learns of their changes through the signals of ``incidents.events``.
    """

    name = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        from console import receivers  # noqa: F401  (connects the receivers)
