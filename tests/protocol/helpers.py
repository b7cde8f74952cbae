"""Helpers shared by the protocol tests."""

from __future__ import annotations

from collections.abc import Sequence

from hub.protocol import SioDecoder, SioPacket


def feed_all(decoder: SioDecoder, text: str, attachments: Sequence[bytes] = ()) -> SioPacket:
    """Feed one packet's text and attachments; the decoder completes it exactly at the end."""
    result = decoder.feed(text)
    for attachment in attachments:
        assert result is None
        assert decoder.awaiting_attachments
        result = decoder.feed(attachment)
    assert not decoder.awaiting_attachments
    assert isinstance(result, SioPacket)
    return result
