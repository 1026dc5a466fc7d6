"""Riak's error answers, turned into named errors that say what to do about them.

No message quotes a password or an ``Authorization`` header: they name the user at most.
"""

import json
import re

from ...exceptions import BucketPropsRefused, RiakAccessDenied, TimelineBackendError, TooManySiblings

#: What timelines need of Riak security: keys read, written and deleted; bucket
#: properties read (checks) and set (timak_riak_setup).
PERMISSIONS = ("riak_kv.get", "riak_kv.put", "riak_kv.delete", "riak_core.get_bucket", "riak_core.set_bucket")
_PERMISSION = re.compile(r"riak_(?:kv|core)\.\w+")
_TOO_MANY_SIBLINGS = re.compile(rb"too_many_siblings,\s*(\d+)")


def grant_command(bucket_type: str, bucket: str, username: str) -> str:
    """Return the ``riak admin`` command that grants a user what timelines need in a bucket."""
    return f"riak admin security grant {','.join(PERMISSIONS)} on {bucket_type} {bucket} to {username}"


def answer_error(response, *, request, key, node_url, bucket_type, bucket, username) -> TimelineBackendError:
    """Return the error for an answer that is not the one a request expected.

    ``request`` is the method and target, for the message; the other arguments say
    where the request went and as whom, so the message can say what to run.
    """
    status = response.status
    if status == 426:
        return RiakAccessDenied(
            f"Riak at {node_url} has security enabled and refuses plain HTTP (426): "
            "use the node's https:// listener in URL or URLS, with CA_FILE",
            status=status, key=key,
        )
    if status == 401 and username is None:
        return RiakAccessDenied(
            f"Riak at {node_url} has security enabled and asks for credentials (401): "
            "set USERNAME and PASSWORD (over https://)",
            status=status, key=key,
        )
    if status == 401:
        return RiakAccessDenied(
            f"Riak at {node_url} refused the credentials of user {username!r} (401): check USERNAME and "
            f"PASSWORD, and that the user may log in with a password from this host (on a Riak node: "
            f"riak admin security add-source {username} <this host's address>/32 password)",
            status=status, key=key,
        )
    if status == 403:
        denied = sorted(set(_PERMISSION.findall(_text(response))))
        what = ", ".join(denied) if denied else "a permission timelines need"
        return RiakAccessDenied(
            f"Riak at {node_url} denied user {username!r} {what} on bucket {bucket!r} of type "
            f"{bucket_type!r} (403): on a Riak node run: {grant_command(bucket_type, bucket, username or 'USER')}",
            status=status, key=key,
        )
    if status == 400 and request.endswith("/props") and request.startswith("PUT "):
        return BucketPropsRefused(
            f"Riak refused bucket properties for bucket {bucket!r} of type {bucket_type!r}: "
            f"{_refusals(response.data)}",
            status=status, key=key,
        )
    found = _TOO_MANY_SIBLINGS.search(response.data) if status == 500 else None
    if found:
        return TooManySiblings(
            f"Riak refused to store {key!r}: it would hold {int(found[1])} siblings, over the node's "
            f"object.siblings.maximum (riak.conf, 100 by default); reading the key merges them",
            status=status, key=key,
        )
    return TimelineBackendError(
        f"Riak answered {status} {response.reason} to {request}: {_text(response)[:500]}",
        status=status, key=key,
    )


def _text(response) -> str:
    return response.data.decode("utf-8", "replace").strip()


def _refusals(body: bytes) -> str:
    """Return Riak's reasons, one per property: strings, or Erlang strings sent as lists of codes."""
    try:
        reasons = json.loads(body)
        if not isinstance(reasons, dict) or not reasons:
            raise ValueError
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:500] or "no reason given"
    said = []
    for name, reason in reasons.items():
        if isinstance(reason, list) and all(isinstance(code, int) and 0 <= code < 0x110000 for code in reason):
            reason = "".join(map(chr, reason))
        said.append(f"{name}: {reason}")
    return "; ".join(said)
