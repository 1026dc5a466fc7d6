"""Case 19: a reader's exclusions and a user's erasure (issue targets).

* A first page of 20 for a reader excluding 100 actors, 10 of whom appear in the
  timeline (a tenth of its items), against the same page with no exclusions.
* Erasing a user: the request cost of ``erasure.erase_actor`` (one append per alias),
  against deleting a user row that has no timelines; then physical removal
  (``erasure.purge`` over every follower's home holding the user's items), in
  keys/s against fan-out's own rate over the same keys (one appended change each);
  then the same purge again, when every key holds 1,000 items of others and none of the user's.
"""

from django_timak import erasure
from django_timak.erasure_record import ERASURE_KEY
from django_timak.entries import Entry
from django_timak.handler import timelines
from tests.models import User

from ..measure import Stats, compare, timed
from ..report import Row, ratio_row

KEY = "bench:exclusions:home"
ACTORS = 100


def actor(n):
    return f"tests.user:{1_000_000 + n}"


def exclusions(config):
    timeline = timelines["default"]
    timeline.replay(KEY, [Entry(i, i, i + 1, {"text": f"item {i}"}, False, actor(i % ACTORS)) for i in range(1000)])
    excluded = frozenset([actor(n) for n in range(10)] + [actor(1000 + n) for n in range(90)])
    batch = config.batch * 4

    def excluding():
        for _ in range(batch):
            page = timeline.page(KEY, 20, exclude_actors=excluded)
        assert len(page.items) == 20 and all(page.entries[i].actor not in excluded for i in range(20))

    def plain():
        for _ in range(batch):
            timeline.page(KEY, 20)

    subject, floor = compare(excluding, plain, config.runs)
    return ratio_row("19 exclusions", "first page, 100 excluded (10 present)", "ms", subject, floor,
                     "same page, no exclusions", limit=1.2, scale=1000 / batch)


def erasure_rows(config):
    timeline = timelines["default"]
    followers = config.followers if config.mode == "quick" else 1_000
    posts = 1_000 if config.mode == "quick" else 10_000
    user = User.objects.create(username="erased-bench")
    ref = f"tests.user:{user.pk}"
    keys = [f"bench:erasure:{n}:home" for n in range(followers)]
    own = [Entry(f"tests.post:{9_000_000 + i}", i, i + 1, None, False, ref) for i in range(posts)]
    other = [Entry(f"tests.post:{8_000_000 + i}", i, i + 1, None, False, actor(i % 7)) for i in range(200)]
    for key in keys:
        timeline.replay(key, own[-timeline.capacity :] + other)

    def erase():
        erasure.erase_actor(ref)

    def delete_bare_user():
        User.objects.create(username="bare").delete()

    request, floor = compare(erase, delete_bare_user, config.runs)
    assert all(e.actor != ref for e in timeline.page(keys[0], 20).entries)
    rows = [ratio_row("19 erasure", f"erase_actor, {posts:,} posts x {followers:,} followers", "ms", request, floor,
                      "delete a user with no timelines", limit=3, scale=1000)]
    purge_time = timed(lambda: erasure.purge(ref, "default"))
    # Again, once every key holds 1,000 newer items of others and none of the user's: what a purge
    # costs over the keys that never held them (most of a store's keys).
    newer = [Entry(f"tests.post:{7_000_000 + i}", posts + i, posts + i + 1, None, False, actor(i % 7)) for i in range(1000)]
    for key in keys:
        timeline.replay(key, newer)
    again_time = timed(lambda: erasure.purge(ref, "default"))
    store_keys = len(erasure.keys_to_purge(ref, "default")[0])
    fanout_time = timed(lambda: timeline.append_changes({key: [Entry("tests.post:1", 1, 1)] for key in keys}))
    rate, floor_rate = Stats.of([purge_time]).rate(store_keys), Stats.of([fanout_time]).rate(len(keys))
    rows.append(Row("19 erasure", f"physical removal, {store_keys:,} keys", "keys/s", rate, floor_rate.median,
                    "fan-out of one change to the homes", floor_rate.median / rate.median, "", None))
    again = Stats.of([again_time]).rate(store_keys)
    rows.append(Row("19 erasure", f"physical removal, {store_keys:,} keys holding none (1,000 items)", "keys/s", again,
                    floor_rate.median, "fan-out of one change to the homes", floor_rate.median / again.median, "", None))
    # The record is store-wide: later cases' pages must not leave out this user's refs.
    user.delete()
    for key in (*keys, ERASURE_KEY):
        timeline.clear(key)
    return rows


def run(config):
    return [exclusions(config), *erasure_rows(config)]
