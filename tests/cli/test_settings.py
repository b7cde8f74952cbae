"""Settings: file < environment < flags, each value traced to its source, each error named."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.cli import show
from hub.cli.ports import Ports, parse_ports
from hub.cli.settings import resolve
from hub.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path), **extra}


def test_precedence_is_default_file_env_flag_and_origins_say_so(tmp_path: Path) -> None:
    """A later source wins key by key, and each key reports the source it came from."""
    config = write(
        tmp_path / "config" / "hub" / "hub.toml",
        'host = "0.0.0.0"\nport = 7000\nlog_level = "warning"\n[hub]\nping_interval = 7\n'
        "max_payload = 1000\n",
    )
    env = base_env(tmp_path, HUB_PORT="7100-7110", HUB_LOG_LEVEL="error", HUB_MAX_PAYLOAD="2000")
    resolved = resolve({"log_level": "debug"}, env)
    settings = resolved.settings
    assert resolved.config_file == config
    assert (settings.host, settings.port, settings.log_level) == (
        "0.0.0.0",
        Ports(7100, 7110),
        "DEBUG",
    )
    assert (settings.hub.ping_interval, settings.hub.max_payload) == (7.0, 2000)
    assert settings.shutdown_grace == 10.0
    assert resolved.origins["host"] == str(config)
    assert resolved.origins["port"] == "HUB_PORT"
    assert resolved.origins["log_level"] == "--log-level"
    assert resolved.origins["hub.ping_interval"] == str(config)
    assert resolved.origins["hub.max_payload"] == "HUB_MAX_PAYLOAD"
    assert resolved.origins["shutdown_grace"] == "default"


def test_config_flag_beats_hub_config_and_the_default_location(tmp_path: Path) -> None:
    """--config names the file over HUB_CONFIG, which names it over the default location."""
    write(tmp_path / "config" / "hub" / "hub.toml", "port = 1\n")
    from_env = write(tmp_path / "env.toml", "port = 2\n")
    from_flag = write(tmp_path / "flag.toml", "port = 3\n")
    env = base_env(tmp_path)
    assert resolve({}, env).settings.port == Ports(1, 1)
    assert resolve({}, env | {"HUB_CONFIG": str(from_env)}).settings.port == Ports(2, 2)
    resolved = resolve({}, env | {"HUB_CONFIG": str(from_env)}, str(from_flag))
    assert (resolved.settings.port, resolved.config_origin) == (Ports(3, 3), "--config")


def test_paths_in_a_file_are_relative_to_the_file(tmp_path: Path) -> None:
    """A relative log_file in the config file is taken from the file's folder, not the cwd."""
    config = write(tmp_path / "etc" / "hub.toml", 'log_file = "logs/hub.log"\n')
    resolved = resolve({}, base_env(tmp_path), str(config))
    assert resolved.settings.log_file == tmp_path / "etc" / "logs" / "hub.log"
    assert resolved.settings.pid_file is None


def test_unknown_hub_variables_are_ignored_and_listed(tmp_path: Path) -> None:
    """HUB_* names that are no setting (other programs use HUB_ too) do not stop start-up."""
    resolved = resolve({}, base_env(tmp_path, HUB_VERBOSE="1", HUB_PORT="9"))
    assert resolved.ignored_env == ("HUB_VERBOSE",)
    assert resolved.settings.port == Ports(9, 9)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"port": "65536"}, "port = '65536' (from --port): expected a port 0-65535"),
        ({"port": "0-10"}, "port = '0-10' (from --port): expected a port"),
        ({"host": " "}, "host = ' ' (from --host): expected a host name or address"),
        ({"log_level": "verbose"}, "log_level = 'verbose' (from --log-level): expected one of"),
        ({"shutdown_grace": "soon"}, "shutdown_grace = 'soon' (from --shutdown-grace): expected a"),
        (
            {"shutdown_grace": "0"},
            "shutdown_grace = '0' (from --shutdown-grace): expected a number > 0",
        ),
        ({"hub.ping_timeout": "-3"}, "hub.ping_timeout = '-3' (from --ping-timeout): "),
        ({"hub.outbox_messages": "many"}, "hub.outbox_messages = 'many' (from --outbox-messages)"),
        ({"hub.path": "socket.io"}, "hub.path = 'socket.io' (from --path): 'path' must start"),
        ({"pid_file": ""}, "pid_file = '' (from --pid-file): expected a file path"),
    ],
)
def test_each_bad_value_names_key_value_source_and_expectation(
    tmp_path: Path, flags: dict[str, str], expected: str
) -> None:
    """The ConfigError message carries the key, the value as given, its source, what is wanted."""
    with pytest.raises(ConfigError) as raised:
        resolve(flags, base_env(tmp_path))
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("hub = 3\n", "'hub' must be a table"),
        ("port = true\n", "port = True"),
        ("host = 5\n", "host = 5 (from {file}): expected a string"),
        (
            "[hub]\nping_interval = true\n",
            "hub.ping_interval = True (from {file}): expected a number",
        ),
        ("[hub]\nextra = 1\n", "unknown setting 'hub.extra' in {file}"),
    ],
)
def test_bad_file_contents_name_the_file(tmp_path: Path, toml: str, expected: str) -> None:
    """Errors from the config file say which file; booleans are not numbers."""
    config = write(tmp_path / "hub.toml", toml)
    with pytest.raises(ConfigError) as raised:
        resolve({}, base_env(tmp_path), str(config))
    assert expected.format(file=config) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (8765, Ports(8765, 8765)),
        ("0", Ports(0, 0)),
        (" 8765-8775 ", Ports(8765, 8775)),
        ("9000-9000", Ports(9000, 9000)),
    ],
)
def test_port_forms(value: Any, expected: Ports) -> None:
    """A port, 0, or an inclusive range; a range of one is a single port."""
    assert parse_ports(value) == expected


@pytest.mark.parametrize("value", [-1, 65536, "8775-8765", "a-b", "8765-", 8.5, True, [1]])
def test_bad_port_forms_are_refused(value: Any) -> None:
    """Out of range, reversed, malformed or non-integer ports raise ValueError."""
    with pytest.raises(ValueError, match="expected a port"):
        parse_ports(value)


def test_ports_candidates_are_what_serve_takes() -> None:
    """One port stays an int (0 included); a range becomes the list of its ports in order."""
    assert Ports(0, 0).candidates == 0
    assert Ports(8765, 8767).candidates == [8765, 8766, 8767]
    assert str(Ports(8765, 8767)) == "8765-8767"


def test_config_output_is_valid_toml_with_origins(tmp_path: Path) -> None:
    """`hub config` prints TOML that parses back to the effective values, sources as comments."""
    config = write(tmp_path / "hub.toml", '[hub]\npath = "/rt/"\n')
    resolved = resolve({"port": "8000-8010"}, base_env(tmp_path, HUB_PING_TIMEOUT="9"), str(config))
    text = show.render(resolved, base_env(tmp_path))
    parsed = tomllib.loads(text)
    assert parsed["port"] == "8000-8010" and parsed["host"] == "127.0.0.1"
    assert parsed["hub"]["path"] == "/rt/" and parsed["hub"]["ping_timeout"] == 9.0
    assert "pid_file" not in parsed  # unset: a comment saying what start would use
    lines = text.splitlines()
    assert any(
        line.startswith('port = "8000-8010"') and line.endswith("# --port") for line in lines
    )
    assert any(
        line.startswith("ping_timeout = 9.0") and line.endswith("# HUB_PING_TIMEOUT")
        for line in lines
    )
    assert any(line.startswith('path = "/rt/"') and line.endswith(f"# {config}") for line in lines)


def test_lists_and_switches_from_the_environment_and_files(tmp_path: Path) -> None:
    """Lists come comma-separated from variables and as arrays from files; keys stay hidden."""
    config = write(tmp_path / "hub.toml", '[hub]\ncors_origins = ["http://a.example"]\n')
    env = base_env(tmp_path, HUB_API_KEYS="k1, k2", HUB_CORS_CREDENTIALS="true")
    resolved = resolve({}, env, str(config))
    hub = resolved.settings.hub
    assert hub.api_keys == ("k1", "k2")
    assert hub.cors_origins == ("http://a.example",)
    assert hub.cors_credentials is True
    text = show.render(resolved, env)
    assert tomllib.loads(text)["hub"]["cors_origins"] == ["http://a.example"]
    assert "k1" not in text and "api_keys: 2 set, not shown" in text


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HUB_CORS_CREDENTIALS": "maybe"}, "expected true or false, got 'maybe'"),
        ({"HUB_PING_INTERVAL": "x"}, "expected a number"),
    ],
)
def test_bad_switches_are_refused(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        resolve({}, base_env(tmp_path, **env))


def test_related_settings_are_checked_together_not_one_at_a_time(tmp_path: Path) -> None:
    """A backoff max below the default base is fine when the base given is lower still."""
    env = base_env(tmp_path, HUB_EMITTER_BACKOFF_BASE="0.05", HUB_EMITTER_BACKOFF_MAX="0.1")
    hub = resolve({}, env).settings.hub
    assert (hub.emitter_backoff_base, hub.emitter_backoff_max) == (0.05, 0.1)
    with pytest.raises(ConfigError, match="emitter_backoff_max must be at least"):
        resolve({}, base_env(tmp_path, HUB_EMITTER_BACKOFF_MAX="0.1"))


def test_the_jwt_secret_is_never_shown(tmp_path: Path) -> None:
    secret = "s" * 40
    env = base_env(tmp_path, HUB_JWT_SECRET=secret)
    resolved = resolve({}, env)
    assert resolved.settings.hub.jwt_secret == secret
    text = show.render(resolved, env)
    assert secret not in text and "jwt_secret: set, not shown" in text
