"""A trio-native real-time event hub speaking Socket.IO v5 / Engine.IO v4."""

from hub.auth.claims import Claims as Claims
from hub.core.config import HubConfig as HubConfig
from hub.core.emitter import Handle as Handle
from hub.core.emitter import UserEmitter as UserEmitter
from hub.core.hub import Hub as Hub
from hub.core.hub import get_hub as get_hub
from hub.core.namespace import Namespace as Namespace
from hub.core.session import Session as Session
from hub.core.stats import HubStats as HubStats
from hub.errors import AckTimeout as AckTimeout
from hub.errors import AuthError as AuthError
from hub.errors import ConfigError as ConfigError
from hub.errors import ConnectRefused as ConnectRefused
from hub.errors import Forbidden as Forbidden
from hub.errors import HubError as HubError
from hub.errors import LimitExceeded as LimitExceeded
from hub.errors import NotConnected as NotConnected
from hub.errors import NotRunning as NotRunning
from hub.errors import ProtocolError as ProtocolError
from hub.errors import QueueFull as QueueFull
from hub.errors import Refusal as Refusal

__all__ = [
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
]
