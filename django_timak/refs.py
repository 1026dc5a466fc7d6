"""Row references: the item ids that timeline fields write.

A reference is ``"<app_label>.<model_name>:<pk>"`` (``"tests.post:42"``): readable in
a stored value, unique across models, so one timeline can mix rows of several models
and be read back with one query per model. Proxy models refer to their concrete
model, so a row has one reference however it was saved.
"""

from django.apps import apps
from django.core.exceptions import ValidationError

SEPARATOR = ":"


def model_label(model) -> str:
    """Return ``app_label.model_name`` of ``model``'s concrete model."""
    return model._meta.concrete_model._meta.label_lower


def make_ref(instance) -> str:
    """Return the reference of a saved model instance."""
    return f"{model_label(type(instance))}{SEPARATOR}{instance.pk}"


def parse_ref(item_id):
    """Return ``(model, pk)`` for a reference to an installed model, else None.

    Ids that are not references (ints, other strings, references to models that no
    longer exist) answer None, so callers can treat them as plain items.
    """
    if not isinstance(item_id, str) or SEPARATOR not in item_id:
        return None
    label, _, raw_pk = item_id.partition(SEPARATOR)
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    try:
        return model, model._meta.pk.to_python(raw_pk)
    except ValidationError:
        return None
