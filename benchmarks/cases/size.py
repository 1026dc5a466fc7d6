"""Case 4: stored bytes per item, and the most items a timeline holds under 100 KB.

The floor is the information itself: each item's id, data, and its score and clock
as 8 bytes each, packed end to end and put through the same compressor. The ratio
is what the stored format costs beyond that.
"""

import struct

from django_timak import codecs

from ..items import entries
from ..measure import Stats
from ..report import Row
from .core import COMPRESSORS, SIZE

LIMIT = 100 * 1024
#: The search for the largest timeline under LIMIT looks no further than this.
MOST = 20_000


def packed(found) -> bytes:
    """Return the bare content of entries, with no structure around it."""
    return b"".join(
        e.id.encode() + struct.pack("<qq", e.score, e.clock) + codecs.dumps_data(e.data).encode() for e in found
    )


def largest_under(found, compress, limit=LIMIT) -> int:
    """Return the most of the newest ``found`` entries whose value stays under ``limit``."""
    low, high = 0, len(found)
    while low < high:
        middle = (low + high + 1) // 2
        if len(codecs.encode(found[:middle], compress)) < limit:
            low = middle
        else:
            high = middle - 1
    return low


def run(config):
    found = entries(SIZE)
    many = entries(MOST)
    rows = []
    for compress in COMPRESSORS:
        _, factory = codecs.COMPRESSORS[compress]
        stored = len(codecs.encode(found, compress)) / SIZE
        bare = len(factory().compress(packed(found))) / SIZE
        label = compress or "uncompressed"
        rows.append(Row("4 bytes/item", label, "B", Stats.of([stored]), bare, "packed content", stored / bare))
        most = largest_under(many, compress)
        ideal = LIMIT // bare
        rows.append(Row("4 MAX_ITEMS < 100 KB", label, "items", Stats.of([most]), ideal, "packed content", ideal / most))
    return rows
