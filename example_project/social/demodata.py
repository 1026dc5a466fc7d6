"""The demo data set, as pure functions of an index: who exists, who follows whom, who posted what.

Each user, follow and post comes from a random generator seeded with its own index,
so the same arguments always describe the same data set and a larger one extends a
smaller one: that is what makes ``seed_demo`` idempotent.
"""

import random
from datetime import timedelta

#: The accounts the sign-in page offers; the first ones are the most followed.
DEMO_ACCOUNTS = ["alice", "bob", "carol", "dave", "erin"]
PASSWORD = "demo"
SPAN = timedelta(days=180)

FIRST = (
    "ada grace linus guido barbara ken dennis margaret alan edsger donald frances "
    "radia tim vint hedy john sophie katherine leslie niklaus joan anita bjarne"
).split()
LAST = (
    "lovelace hopper torvalds rossum liskov thompson ritchie hamilton turing dijkstra knuth "
    "allen perlman lee cerf lamarr backus wilson johnson lamport wirth clarke borg stroustrup"
).split()
BIOS = [
    "Writes code, mostly deletes it.",
    "Distributed systems, slow coffee.",
    "Here for the timelines.",
    "Ex-DBA. Still counting rows.",
    "Making Django do things.",
    "Ops by day, baker by night.",
    "",
]
OPENERS = [
    "Just shipped",
    "Spent the morning on",
    "Finally understood",
    "Hot take on",
    "Reading about",
    "Pairing today on",
    "Three hours debugging",
    "Small win:",
    "TIL about",
    "Rewrote",
]
TOPICS = [
    "vector clocks",
    "our Riak cluster",
    "a flaky migration",
    "cursor pagination",
    "fan-out on write",
    "the new admin theme",
    "sibling resolution",
    "a 4-line CSS fix",
    "Django's ORM",
    "SQLite in WAL mode",
    "the deploy pipeline",
    "read repair",
    "timezone bugs",
    "template fragments",
    "a CRDT that actually merges",
]
CLOSERS = [
    ".",
    "!",
    ". Worth it.",
    ". Send help.",
    " and it just works.",
    ". Notes on the wiki.",
    ". Finally.",
    ". Coffee first.",
    "? Thoughts welcome.",
]


def username(index: int) -> str:
    """Return the username of seeded user ``index``: the demo accounts, then generated names."""
    if index < len(DEMO_ACCOUNTS):
        return DEMO_ACCOUNTS[index]
    n = index - len(DEMO_ACCOUNTS)
    first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST) + n) % len(LAST)]
    return f"{first}.{last}" + (str(n // (len(FIRST) * len(LAST))) if n >= len(FIRST) * len(LAST) else "")


def person(index: int) -> dict:
    """Return the fields of seeded user ``index``: username, names and bio."""
    name = username(index)
    first, _, last = name.partition(".")
    return {"username": name, "first_name": first.title(), "last_name": last.title(), "bio": random.Random(name).choice(BIOS)}


def followees(index: int, users: int) -> list[int]:
    """Return whom user ``index`` follows: 5 to 40 others, drawn with Zipf-like weights.

    Low indexes weigh most, so the first few users are followed by nearly everyone
    and most users by a handful: the skew of a real network.
    """
    rng = random.Random(f"follows-{index}")
    others = [j for j in range(users) if j != index]
    weights = [1 / (j + 1) ** 1.2 for j in others]
    wanted = min(rng.randint(5, 40), len(others))
    chosen = set()
    while len(chosen) < wanted:
        chosen.update(rng.choices(others, weights, k=wanted - len(chosen)))
    return sorted(chosen)


def post(index: int, users: int, anchor):
    """Return ``(author index, created, body)`` of seeded post ``index``."""
    rng = random.Random(f"post-{index}")
    author = rng.randrange(users)
    created = anchor - timedelta(milliseconds=rng.randrange(int(SPAN.total_seconds() * 1000)))
    body = f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}{rng.choice(CLOSERS)}"
    return author, created, body
