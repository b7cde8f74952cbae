"""A Node socket.io-client and a python-socketio client in the same hub at once."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

from tests.interop.interop_harness import JS_DIR, decode_binary, require_node
from tests.interop.sio_client import STEP, Inbox, ack, connected, run


def test_python_and_node_clients_relay_through_rooms(app_url: str) -> None:
    """Python -> hub -> Node -> hub -> Python through room broadcasts, bytes intact both ways."""
    node = require_node()

    async def scenario() -> dict[str, Any]:
        inbox = Inbox()
        async with connected(app_url, inbox=inbox, events=("relayed",)) as py:
            assert await ack(py, "join", "py-room") == (True,)
            relay = await asyncio.create_subprocess_exec(
                node,
                str(JS_DIR / "relay.mjs"),
                app_url,
                cwd=JS_DIR,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            try:
                assert relay.stdout is not None
                ready = await asyncio.wait_for(relay.stdout.readline(), 4 * STEP)
                assert json.loads(ready) == {"ready": True}, ready
                news = {"room": "node-room", "event": "news", "args": [{"n": 1}, b"\x00py\xff"]}
                assert await ack(py, "broadcast", news) == (1,)
                await inbox.wait_until(lambda: bool(inbox.events["relayed"]), "the relayed news")
                out, err = await asyncio.wait_for(relay.communicate(), 4 * STEP)
            finally:
                if relay.returncode is None:
                    relay.kill()
                    await relay.communicate()
            assert relay.returncode == 0, (out, err)
            assert inbox.events["relayed"] == [({"n": 1}, b"\x00py\xff", b"from node")]
        result: dict[str, Any] = decode_binary(json.loads(out.splitlines()[-1]))
        return result

    result = run(scenario)
    assert result["joined"] == [True]
    assert result["got"] == [{"n": 1}, b"\x00py\xff"]
    assert result["count"] == [1]
