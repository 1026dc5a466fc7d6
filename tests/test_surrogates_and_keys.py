"""Text no store can hold, and data JSON would change, are refused by name before anything is written, on every store."""

import pytest

from django_timak import Timeline, codecs
from django_timak.entries import Entry
from django_timak.exceptions import InvalidData, InvalidKey, InvalidTimelineInput
from tests.layout_stores import store  # noqa: F401

LONE = "post\udc80"


@pytest.fixture
def timeline(store):
    return Timeline(store, max_items=10)


def nothing_written(store):
    return store.read("k").values == []


def test_a_lone_surrogate_in_a_key_raises_invalid_key_on_every_call(timeline, store):
    for call in (
        lambda: timeline.add(LONE, 1, 1),
        lambda: timeline.get(LONE),
        lambda: timeline.page(LONE),
        lambda: timeline.page("k", sources=[LONE]),
        lambda: timeline.append_changes({LONE: [Entry(1, 1, 1)]}),
    ):
        with pytest.raises(InvalidKey, match="lone surrogate"):
            call()
    assert nothing_written(store)


def test_a_lone_surrogate_in_an_id_raises_invalid_timeline_input_and_writes_nothing(timeline, store):
    with pytest.raises(InvalidTimelineInput, match="lone surrogate"):
        timeline.add_many("k", [(1, 1, None), (LONE, 2, None)])
    with pytest.raises(InvalidTimelineInput, match="lone surrogate"):
        timeline.delete("k", LONE)
    with pytest.raises(InvalidTimelineInput, match="lone surrogate"):
        timeline.append_changes({"k": [Entry(LONE, 1, 1)]})
    assert nothing_written(store)


SURROGATE_DATA = [({"body": LONE}, "lone surrogate"), ([LONE], "lone surrogate"), ({LONE: 1}, "lone surrogate"),
                  ({"a": [{"b": LONE}]}, "lone surrogate")]
#: Keys JSON would turn into strings: the data would change between a write and a read.
NON_STRING_KEYS = [({1: "x"}, "keys must be strings"), ({"a": {2.5: "x"}}, "keys must be strings"),
                   ([{None: 1}], "keys must be strings"), ({"a": [{True: 1}]}, "keys must be strings"),
                   ({(1, 2): 3}, "keys must be strings")]


@pytest.mark.parametrize(("data", "message"), SURROGATE_DATA + NON_STRING_KEYS)
def test_obj_data_no_store_could_return_unchanged_raises_invalid_data_and_writes_nothing(timeline, store, data, message):
    with pytest.raises(InvalidData, match=message):
        timeline.add("k", 1, 1, data)
    with pytest.raises(InvalidData, match=message):
        timeline.append_changes({"k": [Entry(1, 1, 1, data)]})
    assert nothing_written(store)


def test_data_with_string_keys_and_any_other_text_reads_back_unchanged(timeline):
    data = {"1": "x", "emoji": "😀 héllo", "nested": [{"k": None}], "": 0}
    timeline.add("k", "id-😀", 1, data)
    assert timeline.get("k") == [data]
    assert timeline.page("k").entries[0].id == "id-😀"


def test_an_actor_with_a_lone_surrogate_is_refused(timeline, store):
    with pytest.raises(InvalidTimelineInput, match="lone surrogate"):
        timeline.append_changes({"k": [Entry(1, 1, 1, None, False, "auth.user:\ud800")]})
    assert nothing_written(store)


def test_dumps_data_names_the_offending_key():
    with pytest.raises(InvalidData, match=r"not 1: JSON would turn it into '1'"):
        codecs.dumps_data({1: "x"})
