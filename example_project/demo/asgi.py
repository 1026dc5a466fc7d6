"""ASGI entry point of the demo: ``uvicorn demo.asgi:application`` from example_project/."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
application = get_asgi_application()
