"""Riak's ``300 Multiple Choices`` answer: every sibling of a key as a ``multipart/mixed`` body.

Values are opaque bytes, so parsing is byte-exact: a part's value is everything between
its blank line and the CRLF that opens the next delimiter (RFC 2046), whatever it holds.
Riak lists siblings in no order a client can rely on (by coordinating vnode, newest first
within one), so callers must treat the parts as a set.
"""

from email.message import Message


def parse_siblings(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Return ``(headers, value)`` of each part of a ``multipart/mixed`` answer.

    Header names are lower-cased; a malformed body raises ValueError.
    """
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/mixed" or not boundary:
        raise ValueError(f"expected multipart/mixed with a boundary, got {content_type!r}")
    # Riak opens the body with a CRLF; prefixing one also accepts a body without it.
    preamble, *parts = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("ascii"))
    if not parts or not parts[-1].startswith(b"--"):
        raise ValueError("the multipart body has no closing delimiter")
    siblings = []
    for part in parts[:-1]:
        padding, crlf, rest = part.partition(b"\r\n")
        if padding.strip(b" \t") or not crlf:
            raise ValueError("malformed multipart delimiter line")
        if rest.startswith(b"\r\n"):
            head, value = b"", rest[2:]
        else:
            head, blank, value = rest.partition(b"\r\n\r\n")
            if not blank:
                raise ValueError("a multipart part has no blank line after its headers")
        headers = {}
        for line in head.decode("latin-1").split("\r\n") if head else ():
            name, colon, field = line.partition(":")
            if not colon:
                raise ValueError(f"malformed multipart header line {line!r}")
            headers[name.strip().lower()] = field.strip()
        siblings.append((headers, value))
    return siblings
