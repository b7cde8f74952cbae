"""Hub settings are validated: each bad value is refused with a message naming it."""

from __future__ import annotations

import pytest

from hub import ConfigError, Hub, HubConfig


def test_settings_override_defaults_and_keep_types() -> None:
    """Given settings replace defaults; ints are accepted where floats are expected."""
    hub = Hub(ping_interval=5, outbox_messages=10.0)
    assert hub.config.ping_interval == 5.0 and isinstance(hub.config.ping_interval, float)
    assert hub.config.outbox_messages == 10 and isinstance(hub.config.outbox_messages, int)
    assert hub.config.ping_timeout == HubConfig().ping_timeout


def test_settings_apply_over_a_given_config() -> None:
    """Keyword settings apply on top of an explicit HubConfig."""
    hub = Hub(HubConfig(ping_timeout=3.0), max_payload=5000)
    assert (hub.config.ping_timeout, hub.config.max_payload) == (3.0, 5000)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ping_intervl": 5}, "extra fields found (ping_intervl)"),
        ({"ping_interval": "fast"}, "expected a number, got 'fast' @ $.ping_interval"),
        ({"max_payload": True}, "expected a number, got True @ $.max_payload"),
        ({"outbox_bytes": 2.5}, "expected a whole number, got 2.5 @ $.outbox_bytes"),
        ({"ping_timeout": 0}, "'ping_timeout' must be > 0"),
        ({"outbox_messages": -1}, "'outbox_messages' must be > 0: -1"),
        ({"path": "socket.io"}, "'path' must start with '/'"),
        ({"path": 7}, "expected a string, got 7 @ $.path"),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, object], message: str) -> None:
    """Unknown keys, wrong types and out-of-range values raise ConfigError naming them."""
    with pytest.raises(ConfigError) as refused:
        Hub(**settings)
    assert message in str(refused.value)
