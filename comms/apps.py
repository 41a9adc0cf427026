from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        from comms import receivers  # noqa: F401  (connects the receivers)
