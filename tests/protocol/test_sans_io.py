"""The protocol package is sans-IO: importing it pulls in no async or network library."""

from __future__ import annotations

import json
import subprocess
import sys

# Import hub.protocol in a fresh interpreter and report every module loaded.
PLAIN_PROBE = """
import json, sys
import hub.protocol
print(json.dumps(sorted(sys.modules)))
"""

# The same, but with hub/__init__.py bypassed (hub becomes a bare package), so only what
# hub.protocol itself imports is loaded -- whatever the top-level package re-exports.
ISOLATED_PROBE = """
import importlib.util, json, sys, types
spec = importlib.util.find_spec("hub")
package = types.ModuleType("hub")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["hub"] = package
import hub.protocol
print(json.dumps(sorted(sys.modules)))
"""

IO_LIBRARIES = {"trio", "trio_websocket", "anyio", "asyncio", "sniffio", "socket", "ssl"}


def imported_modules(probe: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_hub_protocol_does_not_import_trio() -> None:
    """`import hub.protocol` in a fresh interpreter leaves trio (and trio.*) unimported."""
    modules = imported_modules(PLAIN_PROBE)
    assert "hub.protocol" in modules  # the probe really imported the package
    assert "hub.protocol.socketio" in modules
    assert [m for m in modules if m == "trio" or m.startswith("trio.")] == []


def test_protocol_modules_import_only_sans_io_dependencies() -> None:
    """hub.protocol's own modules import no I/O library and no other hub layer."""
    modules = imported_modules(ISOLATED_PROBE)
    assert "hub.protocol.engineio" in modules
    assert "hub.protocol.websocket" in modules
    assert {m.split(".")[0] for m in modules} & IO_LIBRARIES == set()
    hub_modules = {m for m in modules if m.startswith("hub.")}
    assert {m for m in hub_modules if not m.startswith("hub.protocol")} == {"hub.errors"}
