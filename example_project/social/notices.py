"""What a notification says: "Ann, Bob and 3 others liked your post", "Ann followed you"."""

VERBS = {"like": "liked your post", "follow": "followed you"}


def names(item) -> str:
    """Return the shown actors' names and how many others: "Ann, Bob and 3 others"."""
    shown = [actor.get_full_name() or actor.username for actor in item.actors]
    if item.others:
        shown.append(f"{item.others} other{'s' if item.others > 1 else ''}")
    if len(shown) < 2:
        return "".join(shown) or "Someone"
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def describe(item) -> str:
    """Return the sentence a notification shows, from its group's kind (the group id's prefix)."""
    kind = str(item.id).partition(":")[0]
    return f"{names(item)} {VERBS.get(kind, 'did something')}"
