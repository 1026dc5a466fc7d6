"""System checks of a RiakBackend: its security settings, each node, the bucket's properties.

Only ``RiakBackend.check()`` imports this module, so importing the backend does not load
Django's checks framework. An unreachable Riak is only a Warning: ``manage.py check``
runs before deploys and in CI, where Riak is often down, and an Error would block every
command. What would lose writes or leak credentials is an Error.

Ids: E101 allow_mult false, E102 last_write_wins true, E103 no such bucket type,
E104 credentials over plain HTTP, E105 credentials or grants refused, E106 TLS
handshake failed; W101 no node answered, W102 dvv_enabled false, W103 VERIFY false,
W104 one of several nodes did not answer.
"""

from django.core import checks

from ...exceptions import BucketTypeMissing, RiakAccessDenied, RiakTLSError, TimelineBackendError
from .admin import bucket_type_commands, props_command
from .errors import grant_command


def check_backend(backend) -> list:
    """Return the check messages of one backend, contacting its nodes with short timeouts."""
    where = f"Riak bucket {backend.bucket!r} of type {backend.bucket_type!r} at {', '.join(backend.urls)}"
    if backend.credentials_over_http:
        return [
            checks.Error(
                f"{where}: USERNAME and PASSWORD are set but the nodes are plain http://, so the password "
                "would cross the network unencrypted; nothing is sent.",
                hint="Use the nodes' https:// listeners in URL or URLS (Riak security requires TLS), with CA_FILE.",
                id="django_timak.E104",
            )
        ]
    messages = []
    if not backend.tls.verify:
        messages.append(
            checks.Warning(
                f"{where}: VERIFY is false, so the nodes' certificates are not checked and anyone on the "
                "path can read and change timelines (and the password).",
                hint="Set CA_FILE to the CA that signed the nodes' certificates and remove VERIFY.",
                id="django_timak.W103",
            )
        )
    status = backend.node_status()
    answering = [url for url, error in status.items() if error is None]
    for url, error in status.items():
        if isinstance(error, RiakTLSError):
            messages.append(checks.Error(f"{where}: {error.message}", id="django_timak.E106"))
    failed = {url: error for url, error in status.items() if error is not None and not isinstance(error, RiakTLSError)}
    if not answering:
        if failed:
            first = next(iter(failed.values()))
            messages.append(
                checks.Warning(
                    f"{where} did not answer, so its properties were not checked.",
                    hint=f"{first.message}. Start Riak or fix OPTIONS URL, then run manage.py check again.",
                    id="django_timak.W101",
                )
            )
        return messages
    for url, error in failed.items():
        messages.append(
            checks.Warning(
                f"Riak node {url} did not answer; requests go to the other nodes.",
                hint=f"{error.message}. Start the node or remove it from OPTIONS URLS.",
                id="django_timak.W104",
            )
        )
    return messages + _props_messages(backend, where)


def _props_messages(backend, where):
    try:
        props = backend.bucket_props(timeout=min(backend.timeout, 1.0), attempts=1)
    except BucketTypeMissing:
        return [
            checks.Error(
                f"{where}: the bucket type does not exist.",
                hint="On a Riak node run: " + " && ".join(bucket_type_commands(backend.bucket_type)),
                id="django_timak.E103",
            )
        ]
    except RiakAccessDenied as e:
        return [checks.Error(f"{where}: {e.message}", hint=_access_hint(backend, e.status), id="django_timak.E105")]
    except TimelineBackendError as e:
        return [
            checks.Warning(
                f"{where} did not answer, so its properties were not checked.",
                hint=f"{e.message}. Start Riak or fix OPTIONS URL, then run manage.py check again.",
                id="django_timak.W101",
            )
        ]
    messages = []
    if props.get("allow_mult") is not True:
        messages.append(
            checks.Error(
                f"{where} has allow_mult false: concurrent writes overwrite each other and lose items.",
                hint=_props_hint(backend, {"allow_mult": True}),
                id="django_timak.E101",
            )
        )
    if props.get("last_write_wins") is True:
        messages.append(
            checks.Error(
                f"{where} has last_write_wins true: Riak ignores vclocks and concurrent writes lose items.",
                hint=_props_hint(backend, {"last_write_wins": False}),
                id="django_timak.E102",
            )
        )
    if props.get("dvv_enabled") is not True:
        # The default type cannot be recreated: timelines need a type of their own.
        name = "timak" if backend.bucket_type == "default" else backend.bucket_type
        messages.append(
            checks.Warning(
                f"{where} has dvv_enabled false: concurrent writers can pile up siblings.",
                hint=f"On a Riak node run: {' && '.join(bucket_type_commands(name))}; "
                f"and set OPTIONS BUCKET_TYPE to {name!r}.",
                id="django_timak.W102",
            )
        )
    return messages


def _access_hint(backend, status):
    """Return what to change when Riak security refused the check's read (401, 403 or 426)."""
    if status == 426:
        return "Use the nodes' https:// listeners in URL or URLS, with CA_FILE."
    grant = grant_command(backend.bucket_type, backend.bucket, backend.username or "USER")
    if status == 401:
        return f"Check USERNAME and PASSWORD; then grant what timelines need, on a Riak node: {grant}"
    return f"On a Riak node run: {grant}"


def _props_hint(backend, props):
    return f"Run manage.py timak_riak_setup, or: {props_command(props, backend.props_url)}"
