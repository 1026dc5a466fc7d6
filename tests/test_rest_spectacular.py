"""drf-spectacular (optional) describes the DRF face: the cursor, the page size and the page of rows."""

import pytest

pytest.importorskip("drf_spectacular")

from django.test import override_settings  # noqa: E402
from drf_spectacular.generators import SchemaGenerator  # noqa: E402


@override_settings(REST_FRAMEWORK={"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"})
def test_drf_spectacular_generates_the_schema_of_every_timeline_view():
    schema = SchemaGenerator(urlconf="tests.rest_urls").get_schema(request=None, public=True)
    operation = schema["paths"]["/api/users/{user_id}/posts/"]["get"]
    query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(query) == {"cursor", "page_size", "format"} and "as2" in query["format"]["schema"]["enum"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]
    assert set(schema["components"]["schemas"][page]["properties"]) == {"next", "previous", "results"}
    assert "/api/notifications/seen/" in schema["paths"] and "/api/home/" in schema["paths"]
