"""Every vendor client the command line wires, the daemon's metered ones included, gets the
clients' own pool (``adapters.transport``): its keep-alive under the servers' and its cheap
liveness checks, whether or not a private CA bundle is configured."""

from __future__ import annotations

from pathlib import Path

from offboard.adapters.transport import KEEPALIVE_EXPIRY, PooledTransport
from offboard.cli.wiring import verifying_transport
from tests.notify_servers import make_certificate


def test_the_wired_transport_is_the_pooled_one_with_or_without_a_ca_bundle(
    tmp_path: Path,
) -> None:
    bundle, _ = make_certificate(tmp_path)
    for transport in (verifying_transport(), verifying_transport(bundle)):
        assert isinstance(transport, PooledTransport)
        assert transport.pool._keepalive_expiry == KEEPALIVE_EXPIRY
