from django.apps import AppConfig


class TimakConfig(AppConfig):
    name = "django_timak"
    verbose_name = "Timelines"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
        from .receivers import wire_all

        wire_all()
