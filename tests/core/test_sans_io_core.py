"""The core and protocol layers stay free of trio, and the public surface stays exported."""

from __future__ import annotations

import subprocess
import sys

import hub


def test_core_and_protocol_do_not_import_trio() -> None:
    """Importing hub.protocol and hub.core (and the standalone app) pulls in no trio."""
    code = (
        "import sys, hub.protocol, hub.core.hub, hub.core.client, hub.standalone;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('trio', 'trio_websocket')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_stay_exported() -> None:
    """hub exports its curated names, each importable from the package root."""
    expected = {
        "AckTimeout",
        "AuthError",
        "Claims",
        "ConfigError",
        "ConnectRefused",
        "Forbidden",
        "Handle",
        "Hub",
        "HubConfig",
        "HubError",
        "HubStats",
        "LimitExceeded",
        "Namespace",
        "NotConnected",
        "NotRunning",
        "ProtocolError",
        "QueueFull",
        "Refusal",
        "Session",
        "UserEmitter",
        "get_hub",
    }
    assert set(hub.__all__) == expected
    assert all(getattr(hub, name).__module__.startswith("hub.") for name in expected)
    assert issubclass(hub.ProtocolError, hub.HubError)
    assert issubclass(hub.AckTimeout, hub.HubError)
    assert issubclass(hub.Forbidden, hub.Refusal) and issubclass(hub.QueueFull, hub.Refusal)
