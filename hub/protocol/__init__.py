"""Sans-IO Engine.IO v4 and Socket.IO v5 codecs: bytes in, values out, no I/O, no trio."""

from hub.errors import ProtocolError as ProtocolError
from hub.protocol.engineio import EioPacket as EioPacket
from hub.protocol.engineio import EioType as EioType
from hub.protocol.engineio import decode_eio as decode_eio
from hub.protocol.engineio import encode_eio as encode_eio
from hub.protocol.engineio import encode_open as encode_open
from hub.protocol.heartbeat import Heartbeat as Heartbeat
from hub.protocol.heartbeat import HeartbeatAction as HeartbeatAction
from hub.protocol.socketio import SioDecoder as SioDecoder
from hub.protocol.socketio import SioPacket as SioPacket
from hub.protocol.socketio import SioType as SioType
from hub.protocol.socketio import encode_sio as encode_sio
from hub.protocol.websocket import ws_frame as ws_frame
