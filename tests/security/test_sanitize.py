"""hub.core.sanitize: sensitive keys, payload and text redaction, depth limits, log filter."""

from __future__ import annotations

import copy
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.config import HubConfig
from hub.core.sanitize import (
    REDACT_DEPTH,
    REDACTED,
    RedactingFilter,
    Redactor,
    install_log_redaction,
    key_words,
    nesting_depth,
    too_deep,
)

KEYS = ("token", "api_key", "password")
redactor = Redactor(KEYS)
default = Redactor(HubConfig().redact_keys)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


# --- key matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("OPENAI_API_KEY", ("openai", "api", "key")),
        ("apiKey", ("api", "key")),
        ("HTTPAuthToken", ("http", "auth", "token")),
        ("db-password", ("db", "password")),
        ("hub.jwt_secret", ("hub", "jwt", "secret")),
        ("  x--Api  key ", ("x", "api", "key")),
        ("s3Secret", ("s3", "secret")),
        ("", ()),
    ],
)
def test_key_words_split_on_separators_and_camel_case(key: str, words: tuple[str, ...]) -> None:
    assert key_words(key) == words


@pytest.mark.parametrize(
    "key",
    [
        "access_token",
        "githubToken",
        "OPENAI_API_KEY",
        "apiKey",
        "db-password",
        "Password",
        "token",
        "TOKEN",
        "X-Api-Key",
        "api key",
        "refresh.token",
        "HTTPAuthToken",
        "userPassword",
    ],
)
def test_keys_ending_with_a_configured_key_are_sensitive(key: str) -> None:
    assert redactor.is_sensitive(key)
    assert redactor.is_sensitive(key)  # the cached answer agrees


@pytest.mark.parametrize(
    "key",
    [
        "tokens_per_second",
        "max_new_tokens",
        "token_count",
        "passwordless",
        "apikey",  # one word: "api_key" has two
        "key",  # only the last word of api_key
        "api",
        "tokenizer",
        "my_token2",
        "",
        "step",
    ],
)
def test_other_keys_are_not(key: str) -> None:
    assert not redactor.is_sensitive(key)
    assert not redactor.is_sensitive(key)


def test_non_string_keys_are_never_sensitive() -> None:
    assert not redactor.is_sensitive(1)
    assert not redactor.is_sensitive(None)
    assert not redactor.is_sensitive(("token",))


def test_configured_keys_may_be_written_in_any_style() -> None:
    styled = Redactor(("apiKey", "PRIVATE-KEY", " "))
    assert styled.is_sensitive("openai_api_key") and styled.is_sensitive("sshPrivateKey")
    assert not styled.is_sensitive("key")


def test_the_cache_stays_bounded() -> None:
    fresh = Redactor(KEYS)
    for n in range(20_000):
        fresh.is_sensitive(f"field_{n}")
        fresh.is_sensitive(f"token_{n}_token")
    assert len(fresh._clean) <= 4096 and len(fresh._sensitive) <= 4096
    assert fresh.is_sensitive("access_token") and not fresh.is_sensitive("field_1")


# --- payloads ----------------------------------------------------------------------


def test_a_clean_payload_is_returned_as_is() -> None:
    payload = {"step": 100, "loss": 0.42, "run": "r-7", "metrics": {"acc": 0.9}}
    assert redactor.redact(payload) is payload
    assert redactor.redact(payload) is payload  # and again, with every key cached
    items = [payload, (1, "token"), ["password"]]  # strings are values, not keys
    assert redactor.redact(items) is items


@pytest.mark.parametrize("value", [None, 1, 2.5, True, "token=abc", b"password", {}, [], ()])
def test_scalars_and_empty_containers_come_back_unchanged(value: object) -> None:
    assert redactor.redact(value) is value


def test_sensitive_values_of_any_type_are_replaced_at_any_depth() -> None:
    payload: dict[str, Any] = {
        "run": "r-7",
        "password": "hunter2",
        "auth": {"access_token": {"value": "abc", "exp": 1}, "user": "bob"},
        "steps": [{"apiKey": 42}, {"loss": 0.1}, ({"githubToken": None},)],
        "keep": {"clean": [1, 2]},
    }
    original = copy.deepcopy(payload)
    result = redactor.redact(payload)
    assert result == {
        "run": "r-7",
        "password": REDACTED,
        "auth": {"access_token": REDACTED, "user": "bob"},
        "steps": [{"apiKey": REDACTED}, {"loss": 0.1}, ({"githubToken": REDACTED},)],
        "keep": {"clean": [1, 2]},
    }
    assert payload == original  # never modified
    assert isinstance(result["steps"][2], tuple)
    assert result["keep"] is payload["keep"]  # untouched parts are shared
    assert result["steps"][1] is payload["steps"][1]


def test_redaction_stops_at_its_depth_bound_without_recursion_error() -> None:
    deep: Any = {"token": "x"}
    for _ in range(100_000):
        deep = [deep]
    assert redactor.redact(deep) is deep  # the secret is beyond REDACT_DEPTH: left alone
    reachable: Any = {"token": "x"}
    for _ in range(REDACT_DEPTH - 1):
        reachable = [reachable]
    result = redactor.redact(reachable)
    for _ in range(REDACT_DEPTH - 1):
        result = result[0]
    assert result == {"token": REDACTED}


def test_a_cyclic_payload_does_not_loop() -> None:
    cyclic: list[Any] = [{"run": 1}]
    cyclic.append(cyclic)
    assert redactor.redact(cyclic) is cyclic


def test_an_empty_key_list_disables_redaction() -> None:
    off = Redactor(())
    payload = {"password": "hunter2"}
    text = f"password=hunter2 Bearer abc {JWT}"
    assert not off.enabled
    assert off.redact(payload) is payload
    assert off.redact_text(text) is text


# --- text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login password=hunter2 user=bob", "login password=[redacted] user=bob"),
        ("env OPENAI_API_KEY=sk-abc123", "env OPENAI_API_KEY=[redacted]"),
        ("db-password: s3cret, next", "db-password: [redacted], next"),
        ("--api-key=abc --verbose", "--api-key=[redacted] --verbose"),
        ("2fa_token=123456", "2fa_token=[redacted]"),
        ("GET /x?token=abc&page=2 200", "GET /x?token=[redacted]&page=2 200"),
        ('{"password": "hun\\"ter2", "user": "bob"}', '{"password": "[redacted]", "user": "bob"}'),
        ('{"githubToken":"ghp_x","n":1}', '{"githubToken":"[redacted]","n":1}'),
        ('{"apiKey": 12345, "n": 1}', '{"apiKey": [redacted], "n": 1}'),
        ('{"token": null}', '{"token": [redacted]}'),
        ("{'password': 'hunter2', 'user': 'bob'}", "{'password': '[redacted]', 'user': 'bob'}"),
        ("{'password': \"it's\"}", "{'password': \"[redacted]\"}"),
        ("{'api_key': b'\\x00k'}", "{'api_key': b'[redacted]'}"),
        ("Settings(db_password='abc', port=1)", "Settings(db_password='[redacted]', port=1)"),
        (
            '{"api_key": {"user": "a", "keys": ["b", {"c": "}"}]}, "ok": 1}',
            '{"api_key": [redacted], "ok": 1}',
        ),
        ("{'token': ('a', 'b'), 'n': 1}", "{'token': [redacted], 'n': 1}"),
        (
            "[(b'authorization', b'Basic dXNlcjpwYXNz'), (b'host', b'h')]",
            "[(b'authorization', b'[redacted]'), (b'host', b'h')]",
        ),
        ("Authorization: Basic dXNlcjpwYXNz rest", "Authorization: [redacted] rest"),
        ("Proxy-Authorization: Negotiate abc=", "Proxy-Authorization: [redacted]"),
        ("sent Bearer abc.DEF-12_3~+/== to x", "sent Bearer [redacted] to x"),
        ("header bearer abc", "header bearer [redacted]"),
        (f"got {JWT} from client", f"got {REDACTED} from client"),
        (f"id_token={JWT}", "id_token=[redacted]"),
        ("url postgres://app:pa55@db:5432/x", "url postgres://app:[redacted]@db:5432/x"),
        ('password="never closed', 'password="[redacted]"'),
        ("password=[1, [2, 3]] tail", "password=[redacted] tail"),
        ("password=[1, [2, 3", "password=[redacted]"),
        ('password="abc\\', 'password="[redacted]"'),
        ("password=['a\\", "password=[redacted]"),
        ("redis://:pw@cache:6379/0", "redis://:[redacted]@cache:6379/0"),
        # A value's closing quote is not a key's opening one, whatever the quotes inside.
        ("""[{'a': "'", 'token': 'S'}, ":'"]""", """[{'a': "'", 'token': '[redacted]'}, ":'"]"""),
        (
            """{'a': "x ", 'token': 'S', "it's": 1}""",
            """{'a': "x ", 'token': '[redacted]', "it's": 1}""",
        ),
        ("Settings(a='x ', token='=S')", "Settings(a='x ', token='[redacted]')"),
        ('{"note": "can\'t", "password": "S"}', '{"note": "can\'t", "password": "[redacted]"}'),
        ("it's down: password=S", "it's down: password=[redacted]"),
    ],
)
def test_text_values_of_sensitive_keys_are_replaced(text: str, expected: str) -> None:
    assert redactor.redact_text(text) == expected


def test_authorization_headers_are_redacted_even_when_not_configured() -> None:
    assert redactor.redact_text("Authorization: token ghp_1") == "Authorization: [redacted]"


@pytest.mark.parametrize(
    "text",
    [
        "conn=Ab3 remote=127.0.0.1:50012 closed: ping timeout",
        "tokens_per_second=5 max_new_tokens=10 token_count: 3 passwordless=true",
        '{"step": 100, "loss": 0.42, "tokenizer": "bpe"}',
        "https://example.com:8080/path?page=2",
        "the token expired",  # no separator: prose, not a key
        "password:",  # no value
        "eyJhbGciOi.only-two",  # not three segments
        "keyboard keys monkey=1",
        "hub listening on http://127.0.0.1:8765",
    ],
)
def test_text_without_secrets_is_returned_as_is(text: str) -> None:
    assert redactor.redact_text(text) is text
    assert default.redact_text(text) is text


def test_long_text_is_scanned_around_each_hint() -> None:
    """Only the stretches near a sensitive word are scanned; keys anywhere are found."""
    filler = "conn=Ab3 step=1 " * 500
    text = f"{filler}password=a1 {filler}{{'user': 'bob', 'api_key': 'b2'}}{filler}token=c3"
    out = redactor.redact_text(text)
    assert "a1" not in out and "b2" not in out and "c3" not in out
    assert out.count(REDACTED) == 3 and out.count("conn=Ab3") == 1500


def test_text_whose_length_changes_when_lowered_is_scanned_whole() -> None:
    text = "\u0130" * 300 + " password=a1 " + "\u0130" * 300 + " token=b2"  # İ lowers to 2 chars
    assert redactor.redact_text(text) == text.replace("a1", REDACTED).replace("b2", REDACTED)


def test_redacting_text_twice_changes_nothing_more() -> None:
    text = f'password=a {{"token": "b"}} Bearer c {JWT} s://u:p@h'
    once = redactor.redact_text(text)
    assert redactor.redact_text(once) == once
    assert all(secret not in once for secret in ("=a ", '"b"', " c ", JWT, ":p@"))


def test_hostile_text_takes_linear_time() -> None:
    # Unclosed brackets after sensitive keys, a key at every other character, long keys:
    # each value is scanned once, keys are bounded, nothing backtracks (quadratic would
    # take minutes here).
    began = time.perf_counter()
    text = "password={" * 50_000 + " a:b " * 50_000 + "x." * 50_000 + "k" * 100_000 + "="
    assert redactor.redact_text(text) == "password=[redacted]"
    text = "token=(x) " * 50_000 + "conn={" * 50_000 + " " + '"' * 100_000
    assert redactor.redact_text(text).startswith("token=[redacted] token=[redacted]")
    assert time.perf_counter() - began < 5


# --- depth ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        (1, 0),
        ("text", 0),
        (None, 0),
        ([], 1),
        ({}, 1),
        ({"a": 1}, 1),
        ({"a": [1]}, 2),
        ([1, [2, [3]], {"b": ()}], 3),
        ({"a": {"b": {"c": {}}}, "z": 1}, 4),
    ],
)
def test_depth_counts_containers_and_a_scalar_is_zero(value: object, depth: int) -> None:
    assert nesting_depth(value, 100) == depth
    assert not too_deep(value, depth)
    if depth > 0:
        assert too_deep(value, depth - 1)


def test_hostile_nesting_is_refused_without_recursion_error() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert too_deep(deep, 32)
    assert nesting_depth(deep, 32) == 33  # counted no further than the limit + 1
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    assert too_deep(cyclic, 1000)


# --- logging -----------------------------------------------------------------------


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger writing "%(message)s exc=..." lines to a StringIO, not propagating."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s|%(levelname)s"))
    log = logging.getLogger("tests.sanitize.redaction")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)
    try:
        yield log, stream
    finally:
        for attached in log.handlers[:]:
            log.removeHandler(attached)
        for attached_filter in log.filters[:]:
            log.removeFilter(attached_filter)
        log.propagate = True


def test_the_filter_redacts_messages_args_exceptions_and_extras(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.addFilter(RedactingFilter(redactor))
    log.info("login %s with password=%s", "bob", "hunter2")
    log.warning("headers %r", {"Authorization": f"Bearer {JWT}"})
    try:
        raise ValueError("bad token: 'tok' api_key=K3Y")
    except ValueError:
        log.exception("failed for %s", "bob")
    log.info("%(n)d done", {"n": 3})
    log.info("extra", extra={"api_key": "K3Y", "note": "token=abc", "body": {"password": 1}})
    out = stream.getvalue()
    assert "hunter2" not in out and JWT not in out and "K3Y" not in out
    assert "login bob with password=[redacted]|INFO" in out
    assert "{'Authorization': '[redacted]'}" in out
    assert "Traceback" in out and "api_key=[redacted]" in out
    assert "3 done|INFO" in out


def test_the_filter_leaves_the_record_formatted_and_its_extras_redacted() -> None:
    entry = logging.makeLogRecord(
        {"msg": "token=%s", "args": ("abc",), "api_key": "K", "body": {"token": 1}, "n": 5}
    )
    assert RedactingFilter(redactor).filter(entry)
    assert (entry.msg, entry.args) == ("token=[redacted]", None)
    fields = entry.__dict__
    assert fields["api_key"] == REDACTED and fields["body"] == {"token": REDACTED}
    assert fields["n"] == 5


def test_an_extra_field_that_cannot_be_printed_is_left_to_the_formatter() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    broken = Broken()
    entry = logging.makeLogRecord({"msg": "token=abc", "thing": broken})
    assert RedactingFilter(redactor).filter(entry)
    assert entry.msg == "token=[redacted]" and entry.__dict__["thing"] is broken


def test_a_bad_format_keeps_the_line_without_the_secret() -> None:
    entry = logging.makeLogRecord({"msg": "%d password=%s", "args": ("x", "hunter2")})
    RedactingFilter(redactor).filter(entry)
    assert entry.getMessage() == (
        "%d password=[redacted] [arguments not shown: TypeError: "
        "%d format: a real number is required, not str]"
    )


def test_install_covers_child_loggers_and_is_idempotent(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    install_log_redaction(log, Redactor(("secret",)))
    install_log_redaction(log, redactor)  # replaces the first
    child = logging.getLogger(f"{log.name}.child.grandchild")
    log.info("own password=%s", "a1")
    child.info("child token=%s", "b2")
    log.info("own secret=%s", "c3")  # "secret" is no longer configured
    out = stream.getvalue()
    assert "own password=[redacted]" in out and "child token=[redacted]" in out
    assert "secret=c3" in out and "a1" not in out and "b2" not in out
    assert sum(isinstance(f, RedactingFilter) for f in log.filters) == 1
    relays = [i for i, h in enumerate(log.handlers) if type(h).__name__ == "_DescendantRedaction"]
    assert relays == [0]  # one, before the other handlers (pytest adds its own here)


def test_install_keeps_the_last_resort_for_loggers_without_handlers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = logging.getLogger("tests.sanitize.bare")
    log.propagate = False
    try:
        install_log_redaction(log, redactor)
        log.warning("careful: password=%s", "hunter2")
        log.info("not shown: below the last resort's level")
    finally:
        log.removeHandler(log.handlers[0])
        log.filters.clear()
        log.propagate = True
    assert capsys.readouterr().err == "careful: password=[redacted]\n"


# --- properties ----------------------------------------------------------------------

SENSITIVE_KEYS = ["token", "access_token", "githubToken", "OPENAI_API_KEY", "db-password"]
CLEAN_KEYS = ["step", "loss", "tokens_per_second", "max_new_tokens", "passwordless", "run"]

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
keys = st.sampled_from(SENSITIVE_KEYS + CLEAN_KEYS) | st.text(max_size=12)
json_like = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=30,
)


def sensitive_values(value: object) -> Iterator[object]:
    """The values under sensitive keys, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if redactor.is_sensitive(key):
                yield item
            else:
                yield from sensitive_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from sensitive_values(item)


def without_sensitive_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: without_sensitive_keys(v) for k, v in value.items() if not redactor.is_sensitive(k)
        }
    if isinstance(value, list | tuple):
        return type(value)(without_sensitive_keys(item) for item in value)
    return value


@given(json_like)
def test_no_sensitive_key_keeps_its_value(value: object) -> None:
    before = copy.deepcopy(value)
    result = redactor.redact(value)
    assert all(item == REDACTED for item in sensitive_values(result))
    assert json.dumps(value) == json.dumps(before)  # the input is untouched
    if result is not value:
        assert any(True for _ in sensitive_values(value))


@given(json_like)
def test_a_value_without_sensitive_keys_is_returned_itself(value: object) -> None:
    clean = without_sensitive_keys(value)
    assert redactor.redact(clean) is clean


# Markers stand for secrets in text: no other generated text can contain "#".
ascii_keys = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-. ", max_size=12)
text_keys = st.sampled_from(SENSITIVE_KEYS + CLEAN_KEYS) | ascii_keys
text_scalars = st.none() | st.booleans() | st.integers() | st.text("ab c,:={}[]'\"\\", max_size=6)
text_json = st.recursive(
    text_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text_keys, inner, max_size=3),
    max_leaves=20,
)


def plant_secrets(value: Any, counter: list[int]) -> Any:
    """``value`` with a unique "#n#" marker (sometimes in a list) under each sensitive key."""
    if isinstance(value, dict):
        planted: dict[str, Any] = {}
        for key, item in value.items():
            if redactor.is_sensitive(key):
                counter[0] += 1
                marker = f"#{counter[0]}#"
                planted[key] = [marker, {"x": marker}] if counter[0] % 3 == 0 else marker
            else:
                planted[key] = plant_secrets(item, counter)
        return planted
    if isinstance(value, list):
        return [plant_secrets(item, counter) for item in value]
    return value


@settings(max_examples=300)
@given(text_json)
def test_json_and_repr_text_of_a_payload_keeps_no_secret(value: object) -> None:
    planted = plant_secrets(value, [0])
    for text in (json.dumps(planted), json.dumps(planted, indent=1), repr(planted)):
        assert "#" not in redactor.redact_text(text), text


@given(st.sampled_from(SENSITIVE_KEYS), st.sampled_from(["=", ": ", " = ", ":"]), st.data())
def test_key_value_text_keeps_no_secret(key: str, separator: str, data: st.DataObject) -> None:
    secret = data.draw(st.text("abcXYZ019-_+/~%.!@$^*", min_size=1, max_size=20))
    text = f"start {key}{separator}{secret} end"
    assert redactor.redact_text(text) == f"start {key}{separator}{REDACTED} end"


PIECES = [
    "token",
    "password",
    "Authorization",
    "Bearer ",
    "eyJ",
    "://",
    "@",
    ":",
    "=",
    " ",
    "'",
    '"',
    "\\",
    "b'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "a",
    "x.y",
    "\n",
]


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join) | st.text(max_size=60))
def test_any_text_is_redacted_without_error_and_only_once(text: str) -> None:
    once = redactor.redact_text(text)
    assert redactor.redact_text(once) == once
