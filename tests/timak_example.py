"""The example of the original timak README (the API contract), and a runner for it.

Only its import and connection lines change: each test builds one of our backends.
"""

import doctest

TIMAK_README_EXAMPLE = """
>>> from datetime import datetime
>>> import riak
>>> from timak.timelines import Timeline

>>> conn = riak.RiakClient()

>>> tl = Timeline(connection=conn, max_items=3)

>>> # t1.add("key", "unique_id", "score")
>>> tl.add("brett:tweets", 1, datetime(2011, 1, 1))
[1]
>>> tl.add("brett:tweets", 2, datetime(2011, 1, 2))
[2, 1]
>>> tl.add("brett:tweets", 3, datetime(2011, 1, 3))
[3, 2, 1]
>>> tl.add("brett:tweets", 4, datetime(2011, 1, 4))
[4, 3, 2]
>>> tl.delete("brett:tweets", 2, datetime(2011, 1, 2))
[4, 3]

>>> tl.add("brett:tweets", 5, datetime(2011, 1, 5), obj_data={'body': 'Hello world, this is my first tweet'})
[{'body': 'Hello world, this is my first tweet'}, 4, 3]
"""


def run_timak_example(connection_line: str, globs: dict | None = None) -> doctest.TestResults:
    """Run the example with our imports and ``connection_line`` in place of timak's."""
    text = (
        TIMAK_README_EXAMPLE.replace(">>> import riak\n", "")
        .replace("from timak.timelines import Timeline", "from django_timak import Timeline")
        .replace("conn = riak.RiakClient()", connection_line)
    )
    test = doctest.DocTestParser().get_doctest(text, dict(globs or {}), "timak README", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    return runner.summarize(verbose=False)
