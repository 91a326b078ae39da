"""Ports handed to tests that start several listeners at once."""

from __future__ import annotations

import socket

from offboard_emulators.common.server import LOOPBACK, free_ports


def test_ports_chosen_together_are_distinct_and_free() -> None:
    # A daemon given the same listen and webhook port refuses to start (CI stop 29): ports
    # meant for one process must never repeat.
    ports = free_ports(64)
    assert len(set(ports)) == len(ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((LOOPBACK, port))
