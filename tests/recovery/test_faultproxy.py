"""The fault proxy's frame tracking: its cut point is always strictly inside a frame.

The mid-frame cut is what the proxy tests rely on, so it is pinned here on byte streams
made of real WebSocket frames split into chunks at every position.
"""

from __future__ import annotations

import struct

from tests.recovery.faultproxy import FrameTracker, cut_point

HEAD = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"


def frame(payload: bytes) -> bytes:
    """An unmasked server text frame (7-bit, 16-bit or 64-bit length)."""
    size = len(payload)
    if size < 126:
        return bytes([0x81, size]) + payload
    if size < 65536:
        return bytes([0x81, 126]) + struct.pack("!H", size) + payload
    return bytes([0x81, 127]) + struct.pack("!Q", size) + payload


def boundaries(frames: list[bytes]) -> set[int]:
    """Stream offsets where a frame starts or ends (after the HTTP head)."""
    points = {len(HEAD)}
    position = len(HEAD)
    for one in frames:
        position += len(one)
        points.add(position)
    return points


def test_cut_point_is_inside_a_frame_for_every_split() -> None:
    """Split anywhere into two chunks, each chunk's cut point is never a frame boundary."""
    frames = [frame(b'42["tick",{"n":1}]'), frame(b""), frame(b"x" * 300), frame(b"3")]
    stream = HEAD + b"".join(frames)
    edges = boundaries(frames)
    cuts = 0
    for split in range(1, len(stream)):
        tracker = FrameTracker()
        offset = 0
        for chunk in (stream[:split], stream[split:]):
            spans = tracker.feed(chunk)
            point = cut_point(spans, len(chunk)) if tracker.upgraded else None
            if point is not None:
                assert 0 < point < len(chunk)
                assert offset + point not in edges, (split, offset, point)
                cuts += 1
            offset += len(chunk)
    assert cuts > len(stream)  # nearly every chunk had a mid-frame point


def test_big_frame_lengths_are_followed() -> None:
    """16- and 64-bit lengths: the frame after a 70,000-byte one is found where it starts."""
    big = frame(b"y" * 70_000)
    small = frame(b"42[1]")
    tracker = FrameTracker()
    spans = tracker.feed(HEAD + big + small)
    starts = [start for start, _payload, _end in spans]
    assert starts == [len(HEAD), len(HEAD) + len(big)]
    assert tracker.remaining == 0
