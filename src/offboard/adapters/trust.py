"""The TLS contexts our clients verify servers with: built once per process, when first needed.

Building a verifying context reads a whole CA bundle (certifi's, about 150 certificates):
30 to 60 ms of CPU each time. Every client used to build its own (Keycloak, the Organizations
API, SCIM, each metered client of the daemon), before its first request, even to reach a
plain-``http`` server (issue 18: start-up). An ``ssl.SSLContext`` is safe to share between
connections and clients, so each kind of trust is built once and shared:

* :func:`default_trust`: what ``httpx.create_ssl_context(verify=True)`` builds: certifi's
  bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set (as httpx honours them).
* :func:`system_trust`: the system store, plus a private CA bundle on top when given
  (``keycloak.ca_bundle``, ``console.ca_bundle``, the daemon's clients).

Verification is exactly as strict as a fresh context's: ``CERT_REQUIRED`` and host names
checked. The one setting httpcore changes on a context it is given (the ALPN protocols, on
each connection) is the same ``http/1.1`` for every client of ours, so sharing changes
nothing there. A changed environment variable or a replaced bundle file gets a new context.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

_built: dict[tuple[object, ...], ssl.SSLContext] = {}
_lock = threading.Lock()  # two threads asking at once still share one context


def default_trust() -> ssl.SSLContext:
    """httpx's default verifying context (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``)."""
    key = ("default", os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _shared(key, _httpx_default)


def system_trust(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """The system's trust store, and the CA certificates of ``ca_bundle`` on top of it."""
    if ca_bundle is None:
        return _shared(("system",), ssl.create_default_context)
    stat = ca_bundle.stat()  # a bundle replaced on disk (a rotated CA) is read again
    key = ("system", str(ca_bundle.resolve()), stat.st_mtime_ns, stat.st_size)
    return _shared(key, lambda: _with_bundle(ca_bundle))


def _shared(key: tuple[object, ...], build: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    with _lock:
        context = _built.get(key)
        if context is None:
            context = _built[key] = build()
        return context


def _httpx_default() -> ssl.SSLContext:
    import httpx  # its rules for certifi and the environment, not a copy of them

    return httpx.create_ssl_context(verify=True)


def _with_bundle(ca_bundle: Path) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_bundle))
    return context
