"""What a Riak bucket needs to keep timelines, and the commands that give it that.

Bucket properties can be set over HTTP; a bucket type can only be made on a Riak node,
so for that the library prints the ``riak admin`` commands to run.
"""

import json

#: Bucket properties without which concurrent writes lose items.
REQUIRED_PROPS = {"allow_mult": True, "last_write_wins": False}
#: Dotted version vectors keep concurrent writers from piling up siblings.
RECOMMENDED_PROPS = {"dvv_enabled": True}


def bucket_type_commands(bucket_type: str) -> list[str]:
    """Return the ``riak admin`` commands that create a bucket type fit for timelines."""
    props = json.dumps({"props": {**REQUIRED_PROPS, **RECOMMENDED_PROPS}}, separators=(",", ":"))
    return [
        f"riak admin bucket-type create {bucket_type} '{props}'",
        f"riak admin bucket-type activate {bucket_type}",
    ]


def props_command(props: dict, props_url: str) -> str:
    """Return the command that sets bucket properties over HTTP."""
    body = json.dumps({"props": props}, separators=(",", ":"))
    return f"curl -X PUT -H 'Content-Type: application/json' -d '{body}' {props_url}"
