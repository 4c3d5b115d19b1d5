"""Tests can reach loopback only: a test can never call a real provider by accident."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_connecting_outside_loopback_is_blocked() -> None:
    with (
        pytest.warns(UserWarning, match="tried to use socket"),
        pytest.raises(SocketConnectBlockedError),
        socket.create_connection(("203.0.113.10", 443), timeout=1),
    ):
        pass


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
