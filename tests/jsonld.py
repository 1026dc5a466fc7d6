"""Checking Activity Streams 2.0 documents as JSON-LD offline: pyld, with the AS2 context from tests/fixtures."""

import json
from pathlib import Path

from pyld import jsonld

from django_timak.activitystreams import CONTEXT

AS = "https://www.w3.org/ns/activitystreams#"
FIXTURE = Path(__file__).parent / "fixtures" / "activitystreams.jsonld"


def offline_loader(url, options=None):
    """Serve the AS2 context from the fixture; refuse every other URL (no network)."""
    if url.rstrip("/") not in (CONTEXT, CONTEXT + ".jsonld"):
        raise jsonld.JsonLdError(f"offline: no document {url}", "jsonld.LoadDocumentError", code="loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(FIXTURE.read_text())}


def expand(document) -> list:
    """Return ``document`` expanded against the AS2 context."""
    return jsonld.expand(document, {"documentLoader": offline_loader})


def undefined_terms(node) -> set:
    """Return the keys and types expansion could map to no AS2 IRI (AS2's ``@vocab`` makes them blank ``_:`` ones)."""
    found = set()
    if isinstance(node, list):
        for child in node:
            found |= undefined_terms(child)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("_:"):
                found.add(key)
            if key == "@type":
                found |= {kind for kind in value if kind.startswith("_:")}
            found |= undefined_terms(value)
    return found
