"""Pull rules: which rows a ``TimelineField`` leaves in their source instead of pushing them.

A row whose audience is large (a post by an author with very many followers) costs
one write per recipient when pushed. A field with ``pull=`` skips its recipients'
keys for the rows the rule picks; they stay in the key ``pull_from`` names (the
author's own timeline, filled by another field), and readers merge that key into
their pages at read time (``Timeline.page(key, sources=...)``).
"""


class PullAbove:
    """Pull a row when ``count(row)`` (its audience, e.g. the author's followers) exceeds ``threshold``.

    ``threshold`` is an int, or a callable returning one, read at every row (a
    setting then takes effect without a restart). ``count`` should be one cheap
    query, never the list of recipients: that is the cost pulling avoids. It may stop
    counting one past the threshold (``followers[:threshold + 1].count()``), so that
    its cost does not grow with the audience either.
    """

    def __init__(self, threshold, count):
        if not callable(count):
            raise TypeError(f"PullAbove count must be a callable taking the row, not {count!r}")
        self.threshold = threshold
        self.count = count

    def __repr__(self):
        return f"<PullAbove {self.threshold!r}>"

    def __call__(self, row) -> bool:
        threshold = self.threshold() if callable(self.threshold) else self.threshold
        return self.count(row) > threshold
