"""Riak's system checks and ``manage.py timak_riak_setup``, on the test server or a real Riak."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_timak.backends.riak import RiakBackend
from django_timak.exceptions import BucketPropsRefused

RIAK = "django_timak.backends.riak.RiakBackend"
MEMORY = {"BACKEND": "django_timak.backends.memory.MemoryBackend"}


def where(backend):
    return f"Riak bucket {backend.bucket!r} of type {backend.bucket_type!r} at {backend.url}"


def summary(messages):
    return [(m.id, m.msg) for m in messages]


def setup_command(*args, **settings):
    """Run the command with these TIMAK_TIMELINES; return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    with override_settings(TIMAK_TIMELINES=settings):
        call_command("timak_riak_setup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def riak_alias(url, bucket, bucket_type="timak"):
    return {"BACKEND": RIAK, "OPTIONS": {"URL": url, "BUCKET_TYPE": bucket_type, "BUCKET": bucket}}


# check()


def test_a_bucket_of_a_timak_type_passes(riak_url, riak_bucket):
    assert RiakBackend(riak_url, bucket=riak_bucket).check() == []


def test_a_default_type_bucket_loses_writes_and_lacks_dvv(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket_type="default", bucket=riak_bucket)
    assert summary(backend.check()) == [
        ("django_timak.E101", f"{where(backend)} has allow_mult false: concurrent writes overwrite each other and lose items."),
        ("django_timak.W102", f"{where(backend)} has dvv_enabled false: concurrent writers can pile up siblings."),
    ]
    assert backend.check()[0].hint == (
        "Run manage.py timak_riak_setup, or: curl -X PUT -H 'Content-Type: application/json' "
        f"-d '{{\"props\":{{\"allow_mult\":true}}}}' {riak_url}/types/default/buckets/{riak_bucket}/props"
    )


def test_last_write_wins_is_an_error(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket_type="default", bucket=riak_bucket)
    backend.set_bucket_props({"last_write_wins": True})
    assert summary(backend.check()) == [
        ("django_timak.E101", f"{where(backend)} has allow_mult false: concurrent writes overwrite each other and lose items."),
        ("django_timak.E102", f"{where(backend)} has last_write_wins true: Riak ignores vclocks and concurrent writes lose items."),
        ("django_timak.W102", f"{where(backend)} has dvv_enabled false: concurrent writers can pile up siblings."),
    ]


def test_a_type_with_dvv_refuses_last_write_wins_with_riaks_reason(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket)
    with pytest.raises(BucketPropsRefused) as caught:
        backend.set_bucket_props({"last_write_wins": True})
    assert caught.value.status == 400
    assert caught.value.message == (
        f"Riak refused bucket properties for bucket {riak_bucket!r} of type 'timak': "
        "dvv_enabled: If last_write_wins is true, dvv_enabled must be false"
    )
    assert backend.bucket_props()["last_write_wins"] is False


def test_a_refused_n_val_names_the_property(riak_url, riak_bucket):
    with pytest.raises(BucketPropsRefused, match=r"of type 'timak': n_val: not_integer$"):
        RiakBackend(riak_url, bucket=riak_bucket).set_bucket_props({"n_val": 0})


def test_a_missing_bucket_type_is_an_error_with_the_commands(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket_type="nosuchtype", bucket=riak_bucket)
    [error] = backend.check()
    assert (error.id, error.msg) == ("django_timak.E103", f"{where(backend)}: the bucket type does not exist.")
    assert error.hint == (
        "On a Riak node run: riak admin bucket-type create nosuchtype "
        "'{\"props\":{\"allow_mult\":true,\"last_write_wins\":false,\"dvv_enabled\":true}}' "
        "&& riak admin bucket-type activate nosuchtype"
    )


def test_an_unreachable_riak_is_only_a_warning():
    backend = RiakBackend("http://127.0.0.1:1", timeout=30)
    assert summary(backend.check()) == [
        ("django_timak.W101", f"{where(backend)} did not answer, so its properties were not checked."),
    ]


def test_manage_py_check_reports_the_riak_alias(riak_url, riak_bucket):
    from django_timak.checks import check_timelines

    with override_settings(TIMAK_TIMELINES={"riak": riak_alias(riak_url, riak_bucket, "default")}):
        assert [m.id for m in check_timelines()] == ["django_timak.E101", "django_timak.W102"]


# timak_riak_setup


def test_dry_run_says_what_would_change_and_changes_nothing(riak_url, riak_bucket):
    out, err = setup_command("--dry-run", riak=riak_alias(riak_url, riak_bucket, "default"))
    backend = RiakBackend(riak_url, bucket_type="default", bucket=riak_bucket)
    assert f"riak: would set allow_mult=true, dvv_enabled=true (PUT {backend.props_url})" in out
    assert err == ""
    assert backend.bucket_props()["allow_mult"] is False


def test_setup_sets_allow_mult_and_reports_dvv(riak_url, riak_bucket):
    out, err = setup_command(riak=riak_alias(riak_url, riak_bucket, "default"), memory=MEMORY)
    backend = RiakBackend(riak_url, bucket_type="default", bucket=riak_bucket)
    props = backend.bucket_props()
    assert (props["allow_mult"], props["last_write_wins"]) == (True, False)
    assert "riak: allow_mult=true, last_write_wins=false." in out and err == ""
    # Whether Riak lets a bucket of the default type enable DVV, the output says what happened.
    assert ("riak admin bucket-type create timak" in out) is (props["dvv_enabled"] is not True)
    assert [m.id for m in backend.check()] == ([] if props["dvv_enabled"] else ["django_timak.W102"])


def test_a_bucket_already_set_up_is_left_alone(riak_url, riak_bucket):
    out, _ = setup_command("--timeline", "riak", riak=riak_alias(riak_url, riak_bucket))
    assert out.endswith("riak: already set up (allow_mult=true, last_write_wins=false, dvv_enabled=true).\n")


def test_verbosity_0_prints_nothing_on_success(riak_url, riak_bucket):
    assert setup_command("--verbosity", "0", riak=riak_alias(riak_url, riak_bucket, "default")) == ("", "")


def test_a_missing_bucket_type_fails_and_prints_the_commands(riak_url, riak_bucket):
    err = StringIO()
    with override_settings(TIMAK_TIMELINES={"riak": riak_alias(riak_url, riak_bucket, "nosuchtype")}):
        with pytest.raises(CommandError, match="could not set up Riak for: riak"):
            call_command("timak_riak_setup", stdout=StringIO(), stderr=err)
    assert "  riak admin bucket-type activate nosuchtype\n" in err.getvalue()


def test_an_unreachable_riak_fails():
    with pytest.raises(CommandError, match="could not set up Riak for: riak"):
        setup_command(riak=riak_alias("http://127.0.0.1:1", "timelines"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--timeline", "memory"], "timeline 'memory' is not stored in Riak (MemoryBackend)"),
        (["--timeline", "nope"], "TIMAK_TIMELINES has no timeline named 'nope'"),
        ([], "no timeline in TIMAK_TIMELINES uses django_timak.backends.riak.RiakBackend"),
    ],
)
def test_aliases_that_are_not_riak_are_refused(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        setup_command(*args, memory=MEMORY)
