"""A Socket.IO packet encoded once for every recipient.

A broadcast encodes its packet to JSON once and frames it once; each transport then
takes the form it writes (today the WebSocket frames, built on first use and shared).
"""

from __future__ import annotations

from functools import cached_property

from hub.protocol.socketio import SioPacket, encode_sio
from hub.protocol.websocket import ws_frame


class Outgoing:
    """The Engine.IO MESSAGE payloads of one packet: its text, then its attachments."""

    __slots__ = ("__dict__", "attachments", "text")

    def __init__(self, packet: SioPacket) -> None:
        text, attachments = encode_sio(packet)
        self.text: bytes = b"4" + text
        self.attachments: list[bytes] = attachments

    @cached_property
    def ws(self) -> bytes:
        """All WebSocket frames of the packet, back to back, so they are written together."""
        frame = ws_frame(self.text)
        if not self.attachments:
            return frame
        return frame + b"".join(ws_frame(a, binary=True) for a in self.attachments)


def control_frame(text: str) -> bytes:
    """A WebSocket frame carrying one Engine.IO control packet (open, ping, noop...)."""
    return ws_frame(text.encode())
