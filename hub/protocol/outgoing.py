"""A Socket.IO packet encoded once for every recipient.

A broadcast encodes its packet to JSON once and frames it once; each transport then
takes the form it writes: WebSocket frames, or a long-polling payload segment. Each form
is built on first use and shared by every recipient on that transport.
"""

from __future__ import annotations

from base64 import b64encode
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

    @cached_property
    def polling(self) -> bytes:
        """The packet as long-polling payload segments (binary ones base64, ``b``-prefixed)."""
        if not self.attachments:
            return self.text
        return self.text + b"".join(b"\x1eb" + b64encode(a) for a in self.attachments)

    @cached_property
    def size(self) -> int:
        return len(self.text) + sum(map(len, self.attachments))


class Control:
    """An Engine.IO control packet (ping, noop, close...) in each transport's form."""

    __slots__ = ("polling", "size", "ws")

    def __init__(self, text: str) -> None:
        self.polling = text.encode()
        self.ws = control_frame(text)
        self.size = len(self.polling)


def control_frame(text: str) -> bytes:
    """A WebSocket frame carrying one Engine.IO control packet (open, ping, noop...)."""
    return ws_frame(text.encode())
