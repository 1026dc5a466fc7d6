"""Certificates made for a test: a CA, a server certificate for loopback, client certificates.

Built on ``trustme`` (in the ``test`` extra), imported only when certificates are made.
The PEM files live in a temporary folder that goes away with this object, so a test
can point ``OPTIONS["CA_FILE"]`` (and ``CLIENT_CERT``/``CLIENT_KEY``) at real files.
"""

import ssl
import tempfile
from pathlib import Path


class TestCertificates:
    """A certificate authority of the test's own, and the files a server and a client need."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, hosts=("127.0.0.1", "localhost", "::1")):
        try:
            import trustme
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("TLS on the Riak test server needs trustme: pip install 'django-timak[test]'") from e
        self._folder = tempfile.TemporaryDirectory(prefix="timak-tls-")
        self.directory = Path(self._folder.name)
        self._ca = trustme.CA()
        self.ca_file = str(self.directory / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)
        self._server = self._ca.issue_cert(*hosts)
        self._clients = 0

    def server_context(self, *, require_client_cert: bool = False) -> ssl.SSLContext:
        """Return a server-side TLS context; with ``require_client_cert``, clients must show one of ours."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server.configure_cert(context)
        if require_client_cert:
            self._ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_certificate(self, name: str = "timak-client") -> tuple[str, str]:
        """Return the paths ``(certificate, key)`` of a new client certificate signed by the CA."""
        self._clients += 1
        issued = self._ca.issue_cert(f"{name}.test")
        cert_file = self.directory / f"client-{self._clients}.pem"
        key_file = self.directory / f"client-{self._clients}.key"
        for blob in issued.cert_chain_pems:
            blob.write_to_path(cert_file, append=True)
        issued.private_key_pem.write_to_path(key_file)
        return str(cert_file), str(key_file)

    def close(self):
        """Remove the files."""
        self._folder.cleanup()
