"""The data behind the Riak test server: bucket types, bucket properties and objects.

Causality follows Riak KV with ``dvv_enabled``: each write is coordinated by one of the
key's ``n_val`` vnodes (chosen at random, as Riak does), whose dot it gets; a write drops
the siblings its vclock covers and adds itself, so a write without a vclock (a blind
append) always stays beside what is there. Siblings are listed as Riak's dotted version
vector sets list them: by coordinating vnode, newest first within one, which is no order
a client can rely on. Several listeners (a test cluster) can share one store.
"""

import base64
import json
import random
import secrets
import threading
import time
import zlib
from dataclasses import dataclass

NODE = "riak@127.0.0.1"
_BASE_PROPS = {
    "allow_mult": False, "basic_quorum": False, "big_vclock": 50,
    "chash_keyfun": {"mod": "riak_core_util", "fun": "chash_std_keyfun"},
    "dvv_enabled": False, "dw": "quorum", "last_write_wins": False,
    "linkfun": {"mod": "riak_kv_wm_link_walker", "fun": "mapreduce_linkfun"},
    "n_val": 3, "node_confirms": 0, "notfound_ok": True, "old_vclock": 86400,
    "postcommit": [], "pr": 0, "precommit": [], "pw": 0, "r": "quorum", "rw": "quorum",
    "small_vclock": 50, "sync_on_write": "backend", "w": "quorum", "young_vclock": 20,
}
# The default type carries repl/write_once; created types carry active/claimant instead,
# and default to allow_mult and dvv_enabled on (Riak 2.0+).
_DEFAULT_TYPE = {**_BASE_PROPS, "repl": True, "write_once": False}
_CREATED_TYPE = {**_BASE_PROPS, "active": True, "claimant": NODE,
                 "allow_mult": True, "dvv_enabled": True}
# Riak sends an Erlang string as a list of character codes.
_LWW_WITH_DVV = list(b"If last_write_wins is true, dvv_enabled must be false")


def encode_vclock(clock):
    """The opaque `X-Riak-Vclock` value: base64 of zlib'd JSON pairs, sorted."""
    return base64.b64encode(zlib.compress(json.dumps(sorted(clock.items())).encode())).decode()


def decode_vclock(header):
    """Parse a client's `X-Riak-Vclock`; ValueError when it is not one of ours."""
    try:
        pairs = json.loads(zlib.decompress(base64.b64decode(header, validate=True)))
        clock = {actor: counter for actor, counter in pairs}
    except (ValueError, TypeError, zlib.error) as error:
        raise ValueError(f"bad vclock: {header!r}") from error
    if not all(isinstance(a, str) and type(n) is int and n > 0 for a, n in clock.items()):
        raise ValueError(f"bad vclock: {header!r}")
    return clock


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number):
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _B62[rest] + digits
    return digits or "0"


def unique_id(bits=128):
    """A vtag (128 bits) or boundary (160 bits) shaped like Riak's: base 62 of random bits."""
    return base62(int.from_bytes(secrets.token_bytes(bits // 8), "big"))


@dataclass(frozen=True)
class Sibling:
    """One value of an object, with the dot (actor, counter) of the write that made it."""

    value: bytes
    content_type: str | None  # None for a tombstone
    meta: tuple
    vtag: str
    modified: float
    dot: tuple

    @property
    def deleted(self):
        return self.content_type is None


@dataclass(frozen=True)
class Snapshot:
    """What a read sees: the object's encoded version vector and its siblings."""

    vclock: str
    siblings: tuple

    @property
    def deleted(self):
        return all(s.deleted for s in self.siblings)


class TooManySiblings(Exception):
    """A write would leave more than `max_siblings` values; Riak refuses it whole."""


class PropsRefused(Exception):
    """Bucket properties Riak refuses; ``args[0]`` is Riak's JSON answer, by property."""


class _Object:
    """An object's state. Each incarnation has its own actors (like Riak's per-key epochs),
    so a context read before a tombstone was reaped never covers values written after."""

    def __init__(self):
        self.epoch = secrets.token_hex(4)
        self.clock = {}
        self.siblings = ()
        self.reap_at = None


class RiakStore:
    """Buckets, bucket types and objects behind one lock, with Riak's causality rules."""

    def __init__(self, bucket_types, max_siblings, reap_after, seed=0):
        self.max_siblings = max_siblings
        self.reap_after = reap_after
        self._lock = threading.Lock()
        self._coordinators = random.Random(seed)
        self._types = {"default": dict(_DEFAULT_TYPE)}
        for name, props in bucket_types.items():
            self.add_bucket_type(name, **props)
        self._buckets = {}
        self._objects = {}

    def add_bucket_type(self, name, **props):
        with self._lock:
            self._types[name] = {**_CREATED_TYPE, **props}

    def type_props(self, btype):
        """The bucket type's own properties, or None when it does not exist."""
        with self._lock:
            return dict(self._types[btype]) if btype in self._types else None

    def bucket_props(self, btype, bucket):
        """The bucket's properties, or None when the bucket type does not exist."""
        with self._lock:
            return self._props(btype, bucket)

    def set_bucket_props(self, btype, bucket, props):
        """Change some properties; raise PropsRefused with Riak's reasons for a bad set."""
        with self._lock:
            merged = {**self._props(btype, bucket), **props}
            n_val = merged.get("n_val")
            if isinstance(n_val, bool) or not isinstance(n_val, int) or n_val < 1:
                raise PropsRefused({"n_val": "not_integer"})
            if merged.get("last_write_wins") is True and merged.get("dvv_enabled") is True:
                raise PropsRefused({"dvv_enabled": _LWW_WITH_DVV})
            self._buckets.setdefault((btype, bucket), {}).update(props)

    def get(self, btype, bucket, key):
        with self._lock:
            obj = self._live((btype, bucket, key))
            return obj and Snapshot(encode_vclock(obj.clock), obj.siblings)

    def put(self, btype, bucket, key, context, value, content_type, meta=()):
        with self._lock:
            return self._write((btype, bucket, key), context, value, content_type, meta)

    def delete(self, btype, bucket, key, context):
        """Write a tombstone; without a context, over what is there (None if nothing is)."""
        with self._lock:
            if context is None:
                obj = self._live((btype, bucket, key))
                if obj is None or all(s.deleted for s in obj.siblings):
                    return None
                context = obj.clock
            return self._write((btype, bucket, key), context, b"", None, ())

    def keys(self, btype, bucket):
        with self._lock:
            return [k for (t, b, k) in list(self._objects)
                    if (t, b) == (btype, bucket) and self._live((t, b, k))]

    def sibling_count(self, btype, bucket, key):
        with self._lock:
            obj = self._live((btype, bucket, key))
            return len(obj.siblings) if obj else 0

    def reset(self, bucket_types):
        with self._lock:
            self._types = {"default": dict(_DEFAULT_TYPE)}
            self._types.update({n: {**_CREATED_TYPE, **p} for n, p in bucket_types.items()})
            self._buckets.clear()
            self._objects.clear()

    def _props(self, btype, bucket):
        if btype not in self._types:
            return None
        return {**self._types[btype], **self._buckets.get((btype, bucket), {})}

    def _live(self, path):
        obj = self._objects.get(path)
        if obj and obj.reap_at is not None and time.monotonic() >= obj.reap_at:
            del self._objects[path]
            return None
        return obj

    def _write(self, path, context, value, content_type, meta):
        """Dotted-version-vector update: drop the siblings the context covers, add one."""
        props = self._props(path[0], path[1])
        obj = self._live(path) or _Object()
        context = context or {}
        actor = f"{obj.epoch}-{self._coordinators.randrange(props['n_val'])}"
        counter = max(obj.clock.get(actor, 0), context.get(actor, 0)) + 1
        new = Sibling(value, content_type, tuple(meta), unique_id(), time.time(), (actor, counter))
        if props["allow_mult"] and not props["last_write_wins"]:
            kept = [s for s in obj.siblings if context.get(s.dot[0], 0) < s.dot[1]]
            # dvvset order: by actor, and newest first within one actor.
            siblings = tuple(sorted((*kept, new), key=lambda s: (s.dot[0], -s.dot[1])))
        else:
            siblings = (new,)
        if len(siblings) > self.max_siblings:
            raise TooManySiblings(len(siblings))
        for name, count in context.items():
            obj.clock[name] = max(obj.clock.get(name, 0), count)
        obj.clock[actor] = counter
        obj.siblings = siblings
        # Riak reaps a tombstone after delete_mode (3 s); any later write aborts the reap.
        tombstone = all(s.deleted for s in siblings) and self.reap_after is not None
        obj.reap_at = time.monotonic() + self.reap_after if tombstone else None
        self._objects[path] = obj
        return Snapshot(encode_vclock(obj.clock), siblings)
