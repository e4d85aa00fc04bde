"""Tests run offline: the network guard refuses anything but loopback, models come from packages."""

from __future__ import annotations

import os
import socket

import pytest


def test_connections_beyond_this_machine_are_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        with pytest.raises(ConnectionRefusedError, match="network access blocked"):
            s.connect(("93.184.216.34", 80))
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        with pytest.raises(ConnectionRefusedError, match="network access blocked"):
            s.connect(("2606:2800:220:1:248:1893:25c8:1946", 443, 0, 0))


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
            conn, _ = server.accept()
            conn.close()


def test_model_libraries_are_told_to_stay_offline():
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"


def test_the_minilm_model_ships_inside_a_package():
    from index_build.paths import minilm_path as _minilm_path

    path = _minilm_path()
    assert "site-packages" in path or "dist-packages" in path
    assert os.path.isdir(path)
