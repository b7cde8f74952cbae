"""Server-to-client WebSocket frames (RFC 6455 section 5.2).

Server frames are unmasked, so the bytes of one frame can be written to every recipient
as they are: a broadcast builds its frame once. Incoming frames are parsed by wsproto.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81
_FIN_BINARY = 0x82


def ws_frame(payload: bytes, *, binary: bool = False) -> bytes:
    """One final, unmasked data frame carrying ``payload`` (UTF-8 text unless ``binary``)."""
    first = _FIN_BINARY if binary else _FIN_TEXT
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + payload
