"""Serializers of a timeline page's items: notification groups, plain values, and the mark actions' bodies."""

from rest_framework import serializers


class NotificationSerializer(serializers.Serializer):
    """A group of a notification feed: the actors shown, how many there are, the verb, the target, the reader's flags.

    Actors and target are row references by default; name serializers for their rows
    in ``actor_serializer`` and ``target_serializer`` (a subclass) to embed them.
    """

    actor_serializer = None
    target_serializer = None

    id = serializers.CharField(read_only=True)
    score = serializers.IntegerField(read_only=True)
    actors = serializers.SerializerMethodField()
    actor_count = serializers.IntegerField(read_only=True)
    others = serializers.IntegerField(read_only=True, help_text="Actors counted but not shown.")
    verb = serializers.SerializerMethodField()
    targets = serializers.SerializerMethodField()
    data = serializers.JSONField(read_only=True)
    unread = serializers.BooleanField(read_only=True)
    unseen = serializers.BooleanField(read_only=True)

    def get_actors(self, item) -> list:
        if self.actor_serializer is None:
            return list(item.actor_refs)
        return self.actor_serializer(item.actors, many=True, context=self.context).data

    def get_verb(self, item) -> str | None:
        """Return the group's verb: ``data["verb"]`` if its declaration stored one, else the view's ``notification_verb``."""
        if isinstance(item.data, dict) and "verb" in item.data:
            return item.data["verb"]
        return self.context.get("verb")

    def get_targets(self, item) -> list:
        if item.target_ref is None:
            return []
        if self.target_serializer is None or item.target is None:
            return [item.target_ref]
        return [self.target_serializer(item.target, context=self.context).data]


class ValueSerializer(serializers.Serializer):
    """An item that is not a row: its id, score and stored data, as ``TimelineView``'s JSON shows it."""

    id = serializers.JSONField(read_only=True)
    score = serializers.IntegerField(read_only=True)
    data = serializers.JSONField(read_only=True)


class MarkSeenSerializer(serializers.Serializer):
    """The body of ``seen``: the score seen up to; the newest item's when left out."""

    up_to = serializers.IntegerField(required=False)


class ReadItemSerializer(serializers.Serializer):
    id = serializers.JSONField()
    score = serializers.IntegerField()


class MarkReadSerializer(serializers.Serializer):
    """The body of ``read``: items opened (their id and the score they had), or every item up to a score."""

    items = ReadItemSerializer(many=True, required=False)
    up_to = serializers.IntegerField(required=False)

    def validate(self, attrs):
        if not attrs.get("items") and attrs.get("up_to") is None:
            raise serializers.ValidationError("give items, up_to or both")
        return attrs
