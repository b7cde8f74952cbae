"""The CLI's settings: a TOML file, ``HUB_*`` variables and flags, each key traced to its source.

Precedence, lowest first: built-in defaults, the config file, the environment, flags.
The ``[hub]`` table holds ``HubConfig`` settings, validated by ``make_config``; the other
keys are the process's own (address, logging, files), validated here with cattrs. Every
problem is a ``ConfigError`` naming the key, the value, where it came from and what is
expected.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import cattrs

from hub.cli import paths
from hub.cli.ports import Ports, parse_ports
from hub.core.config import HubConfig, make_config, strict_converter
from hub.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_PORTS = Ports(8765, 8765)


def _positive(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"expected a number > 0, got {value!r}")


def _log_level(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")


def _upper(value: str) -> str:
    return value.upper()  # level names are case-insensitive


def _host(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise ValueError("expected a host name or address, got ''")


@attrs.frozen
class Settings:
    """What ``python -m hub`` runs with."""

    host: str = attrs.field(default="127.0.0.1", validator=_host)
    port: Ports = DEFAULT_PORTS
    log_level: str = attrs.field(default="INFO", converter=_upper, validator=_log_level)
    # None: ``run`` logs to stderr and keeps no PID file; ``start`` uses the defaults.
    log_file: Path | None = None
    pid_file: Path | None = None
    # How long SIGTERM/SIGINT wait for clients to drain before forcing them closed.
    shutdown_grace: float = attrs.field(default=10.0, validator=_positive)
    hub: HubConfig = attrs.field(factory=HubConfig)


# Keys of the process's own settings; the [hub] table's keys are HubConfig's fields.
PROCESS_KEYS = tuple(field.name for field in attrs.fields(Settings) if field.name != "hub")
HUB_KEYS = tuple(field.name for field in attrs.fields(HubConfig))
PATH_KEYS = ("log_file", "pid_file")
DEFAULT = "default"


def env_name(key: str) -> str:
    """``hub.ping_interval`` -> ``HUB_PING_INTERVAL``; ``log_level`` -> ``HUB_LOG_LEVEL``."""
    return "HUB_" + key.removeprefix("hub.").upper()


def flag_name(key: str) -> str:
    """``hub.ping_interval`` -> ``--ping-interval``."""
    return "--" + key.removeprefix("hub.").replace("_", "-")


def all_keys() -> Iterator[str]:
    yield from PROCESS_KEYS
    yield from (f"hub.{key}" for key in HUB_KEYS)


@attrs.frozen
class Resolved:
    """Effective settings, where each key's value came from, and which file was read."""

    settings: Settings
    origins: dict[str, str]
    config_file: Path | None
    config_origin: str
    # HUB_* variables that name no setting: other programs share the environment.
    ignored_env: tuple[str, ...] = ()


class Entry(NamedTuple):
    value: Any  # typed: what the check sees
    origin: str  # a file path, an environment variable or a flag
    given: Any  # as written, for messages


# A layer maps dotted keys to entries.
Layer = dict[str, Entry]


def _path(value: Any, kind: Any) -> Path:
    if not isinstance(value, str | Path) or not str(value):
        raise ValueError(f"expected a file path, got {value!r}")
    return Path(value)


_converter = strict_converter()
_converter.register_structure_hook(Path, _path)
_converter.register_structure_hook(Path | None, _path)
_converter.register_structure_hook(Ports, lambda value, _: parse_ports(value))


def _leaf_messages(error: BaseException) -> list[str]:
    if isinstance(error, BaseExceptionGroup):
        return [text for inner in error.exceptions for text in _leaf_messages(inner)]
    return [str(error) or type(error).__name__]


# Settings whose values are secrets: never shown or logged (``hub config`` says whether
# they are set).
SECRET_SETTINGS = frozenset({"api_keys", "jwt_secret"})


def _check_process_key(key: str, value: Any) -> Any:
    """The structured value of one key, or ``ValueError`` saying what is expected."""
    try:
        structured = _converter.structure({key: value}, Settings)
    except cattrs.BaseValidationError as error:
        raise ValueError("; ".join(_leaf_messages(error))) from None
    return getattr(structured, key)


_HUB_WHERE = re.compile(r" @ \$(\.\w+)?$")


def _check_hub_key(key: str, value: Any) -> None:
    try:
        make_config(relations=False, **{key: value})
    except ConfigError as error:
        # make_config names the key itself; keep only what is wrong with the value.
        text = _HUB_WHERE.sub("", str(error).removeprefix("invalid hub settings: "))
        raise ValueError(text) from None


def _fail(key: str, value: Any, origin: str, problem: str) -> ConfigError:
    return ConfigError(f"invalid setting {key} = {value!r} (from {origin}): {problem}")


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _from_text(key: str, text: str) -> Any:
    """A typed value from an environment variable or flag, where the setting wants one."""
    name = key.removeprefix("hub.")
    if key.startswith("hub."):
        kind: type = type(attrs.fields_dict(HubConfig)[name].default)
    else:
        kind = type(attrs.fields_dict(Settings)[name].default)
    if kind is tuple:  # a list: comma-separated
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind is bool:
        return _BOOLEANS.get(text.strip().lower(), text)
    for parse in {int: (int, float), float: (float,)}.get(kind, ()):
        try:
            return parse(text)
        except ValueError:
            continue
    return text  # left as text, so the check names the bad value as given


def _absolute(value: Any, base: Path) -> Any:
    if isinstance(value, str) and value:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)
    return value


def _file_layer(path: Path) -> Layer:
    origin = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    table = data.pop("hub", {})
    if not isinstance(table, dict):
        raise ConfigError(f"in {path}: 'hub' must be a table ([hub]), got {table!r}")
    layer: Layer = {}
    for key, value in data.items():
        if key not in PROCESS_KEYS:
            known = ", ".join(PROCESS_KEYS)
            raise ConfigError(
                f"unknown setting {key!r} in {path}: expected one of {known}, or a [hub] table"
            )
        # A relative path is taken from the file's folder, not the cwd.
        typed = _absolute(value, path.parent) if key in PATH_KEYS else value
        layer[key] = Entry(typed, origin, value)
    for key, value in table.items():
        if key not in HUB_KEYS:
            known = ", ".join(HUB_KEYS)
            raise ConfigError(f"unknown setting 'hub.{key}' in {path}: [hub] takes {known}")
        layer[f"hub.{key}"] = Entry(value, origin, value)
    return layer


def _env_layer(env: Mapping[str, str]) -> tuple[Layer, tuple[str, ...]]:
    layer: Layer = {}
    known = {env_name(key): key for key in all_keys()}
    for name, text in env.items():
        key = known.get(name)
        if key is None:
            continue
        value = _absolute(text, Path.cwd()) if key in PATH_KEYS else _from_text(key, text)
        layer[key] = Entry(value, name, text)
    ignored = sorted(
        name
        for name in env
        if name.startswith("HUB_") and name not in known and name != "HUB_CONFIG"
    )
    return layer, tuple(ignored)


def _flag_layer(flags: Mapping[str, str]) -> Layer:
    layer: Layer = {}
    for key, text in flags.items():
        value = _absolute(text, Path.cwd()) if key in PATH_KEYS else _from_text(key, text)
        layer[key] = Entry(value, flag_name(key), text)
    return layer


def find_config_file(flag: str | None, env: Mapping[str, str]) -> tuple[Path | None, str]:
    """The config file to read and why: ``--config``, ``HUB_CONFIG``, or the default location.

    A named file must exist; the default one is read only when it does.
    """
    if flag:
        return Path(flag).expanduser().absolute(), "--config"
    if env.get("HUB_CONFIG"):
        return Path(env["HUB_CONFIG"]).expanduser().absolute(), "HUB_CONFIG"
    default = paths.config_file(env)
    return (default if default.is_file() else None), f"default location {default}"


def resolve(
    flags: Mapping[str, str], env: Mapping[str, str], config: str | None = None
) -> Resolved:
    """Defaults, then the config file, the environment and ``flags`` (dotted keys to text)."""
    config_file, config_origin = find_config_file(config, env)
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} (from {config_origin}) does not exist")
    env_layer, ignored = _env_layer(env)
    merged: Layer = {}
    for layer in (_file_layer(config_file) if config_file else {}, env_layer, _flag_layer(flags)):
        merged.update(layer)

    process: dict[str, Any] = {}
    hub: dict[str, Any] = {}
    origins = dict.fromkeys(all_keys(), DEFAULT)
    for key, (value, origin, given) in merged.items():
        try:
            if key.startswith("hub."):
                _check_hub_key(key.removeprefix("hub."), value)
                hub[key.removeprefix("hub.")] = value
            else:
                process[key] = _check_process_key(key, value)
        except ValueError as error:
            raise _fail(key, given, origin, str(error)) from None
        origins[key] = origin
    settings = Settings(**process, hub=make_config(**hub))
    return Resolved(settings, origins, config_file, config_origin, ignored)
