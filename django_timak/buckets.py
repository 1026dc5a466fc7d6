"""timak's ``bucket``: which part of a store a Timeline's keys live in.

On Riak a bucket is Riak's own (``RiakBackend.in_bucket``: the same bucket type and
connections, another bucket). The other stores have no buckets: there a bucket is a
key namespace, each key stored as ``"<bucket>/<key>"``. A bucket name holds no ``/``,
so two buckets never see each other's keys.
"""

from .backends.base import BaseBackend
from .exceptions import InvalidTimelineInput


def in_bucket(backend: BaseBackend, bucket: str) -> BaseBackend:
    """Return the store that keeps ``backend``'s keys of ``bucket``."""
    if not isinstance(bucket, str) or not bucket or "/" in bucket:
        raise InvalidTimelineInput(f"bucket must be a non-empty str without '/', not {bucket!r}")
    if hasattr(backend, "in_bucket"):
        return backend.in_bucket(bucket)
    return NamespacedBackend(backend, bucket)


class NamespacedBackend(BaseBackend):
    """A store's keys that start with ``"<bucket>/"``, seen without that prefix."""

    def __init__(self, backend: BaseBackend, bucket: str):
        self.inner = backend
        self.bucket = bucket
        self.prefix = f"{bucket}/"
        self.networked = backend.networked
        self.max_value_bytes = backend.max_value_bytes
        if hasattr(backend, "keys"):
            self.keys = self._keys

    def __repr__(self):
        return f"<NamespacedBackend {self.bucket!r} of {self.inner!r}>"

    def _strip(self, mapping):
        return {key[len(self.prefix):]: value for key, value in mapping.items()}

    def _keyed(self, mapping):
        return {self.prefix + key: value for key, value in mapping.items()}

    def read(self, key):
        return self.inner.read(self.prefix + key)

    def write(self, key, value, token):
        self.inner.write(self.prefix + key, value, token)

    def delete(self, key, token):
        self.inner.delete(self.prefix + key, token)

    def read_many(self, keys):
        return self._strip(self.inner.read_many([self.prefix + key for key in keys]))

    def write_many(self, values):
        return {key[len(self.prefix):] for key in self.inner.write_many(self._keyed(values))}

    def append(self, key, value):
        return self.inner.append(self.prefix + key, value)

    def append_many(self, values):
        return self._strip(self.inner.append_many(self._keyed(values)))

    def _keys(self):
        """Return this bucket's keys (only on stores that list theirs)."""
        return [key[len(self.prefix):] for key in self.inner.keys() if key.startswith(self.prefix)]

    def ping(self):
        return self.inner.ping()

    def check(self):
        return self.inner.check()

    def close(self):
        self.inner.close()
