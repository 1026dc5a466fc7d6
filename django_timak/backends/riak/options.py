"""RiakBackend's options, validated once, when the backend is built.

Every refusal is a ValueError that names the option (the handler turns it into a
TIMAK_TIMELINES error) and never quotes a password, not even one hidden in a URL.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8098"
QUORUM_WORDS = frozenset({"one", "quorum", "all", "default"})
QUORUM_NAMES = ("r", "w", "pr", "pw", "dw")


@dataclass(frozen=True)
class NodeAddress:
    """Where one Riak node listens: its URL (no credentials), and the path it serves under."""

    url: str
    scheme: str
    prefix: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


@dataclass(frozen=True)
class TLSOptions:
    """How to verify the nodes (``ca_file``, ``verify``) and prove who we are (client cert)."""

    ca_file: str | None = None
    verify: bool = True
    client_cert: str | None = None
    client_key: str | None = None


def node_address(url) -> NodeAddress:
    """Return the address of one node URL; raise ValueError for anything else."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = "a URL with credentials" if isinstance(url, str) and "@" in url else url
        raise ValueError(f"a Riak node URL must be http:// or https://, not {shown!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a Riak node URL cannot carry credentials: use the USERNAME and PASSWORD options")
    if parts.query or parts.fragment:
        raise ValueError(f"a Riak node URL cannot carry a query or a fragment: {url!r}")
    parts.port  # raises ValueError for a port that is not a number
    return NodeAddress(url.rstrip("/"), parts.scheme, parts.path.rstrip("/"))


def node_addresses(url, urls) -> list[NodeAddress]:
    """Return the nodes that ``URL`` or ``URLS`` name (one of them, or the local default)."""
    if url is not None and urls is not None:
        raise ValueError("give URL (one node) or URLS (several), not both")
    if urls is None:
        return [node_address(DEFAULT_URL if url is None else url)]
    if isinstance(urls, str) or not isinstance(urls, (list, tuple)) or not urls:
        raise ValueError(f"urls must be a non-empty list of node URLs, not {urls!r}")
    addresses = [node_address(item) for item in urls]
    if len({a.url for a in addresses}) != len(addresses):
        raise ValueError("urls names the same node twice")
    if len({a.scheme for a in addresses}) > 1:
        raise ValueError("urls mixes http:// and https:// nodes: every node must speak TLS, or none")
    return addresses


def tls_options(ca_file, verify, client_cert, client_key) -> TLSOptions:
    """Return the TLS options; a client key needs its certificate."""
    for name, value in (("ca_file", ca_file), ("client_cert", client_cert), ("client_key", client_key)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{name} must be the path of a PEM file, not {value!r}")
    if not isinstance(verify, bool):
        raise ValueError(f"verify must be True or False, not {verify!r}")
    if client_key is not None and client_cert is None:
        raise ValueError("client_key needs client_cert (the certificate it belongs to)")
    return TLSOptions(ca_file, verify, client_cert, client_key)


def credentials(username, password) -> tuple[str, str] | None:
    """Return ``(username, password)`` for Riak security, or None without them."""
    if username is None and password is None:
        return None
    if not isinstance(username, str) or not username or ":" in username:
        raise ValueError("username must be a non-empty string without ':' when a password is given")
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string when a username is given")
    return username, password


def check_quorum(name, value):
    if value is None or value in QUORUM_WORDS:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        words = ", ".join(sorted(QUORUM_WORDS))
        raise ValueError(f"{name} must be a non-negative int or one of {words}, not {value!r}")


def check_number(name, value, low, kind=(int, float)):
    if isinstance(value, bool) or not isinstance(value, kind) or value < low:
        raise ValueError(f"{name} must be a number of at least {low}, not {value!r}")


def check_name(name, value):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
