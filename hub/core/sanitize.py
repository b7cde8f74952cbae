"""Redaction of sensitive keys in payloads and log lines, and nesting-depth limits.

Pure functions and values: no trio, no I/O. ``Redactor`` decides which keys are sensitive
(``HubConfig.redact_keys``), copies payloads with their values replaced by ``"[redacted]"``
and scrubs text; ``RedactingFilter`` applies it to log records; ``too_deep`` bounds the
nesting of incoming payloads without recursion.

**Sensitive keys.** A key is split into words on ``_``, ``-``, ``.``, whitespace and
camelCase boundaries (``"HTTPAuthToken"``: ``http auth token``), lower-cased. It is
sensitive when its words end with all the words of one configured key: with ``token``,
``api_key`` and ``password``, ``access_token``, ``githubToken``, ``OPENAI_API_KEY``,
``apiKey``, ``db-password`` and ``Password`` are; ``tokens_per_second``, ``max_new_tokens``,
``token_count``, ``passwordless`` and ``apikey`` (one word) are not. Keys that are not
strings never are.

**Depth.** A scalar is depth 0; each dict, list or tuple adds one level: ``[]`` and
``{"a": 1}`` are depth 1, ``{"a": [1]}`` is depth 2.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, Final, TypeAlias, TypeVar, cast

__all__ = [
    "REDACTED",
    "REDACT_DEPTH",
    "RedactingFilter",
    "Redactor",
    "install_log_redaction",
    "key_words",
    "nesting_depth",
    "too_deep",
]

REDACTED: Final = "[redacted]"

# Containers ``redact`` looks into, counted like ``too_deep`` does (the top one is 1).
# orjson refuses to encode more than 254 nested containers, so anything deeper cannot
# reach the wire anyway; below this the walk's recursion stays well inside Python's limit.
REDACT_DEPTH: Final = 256

# Decisions cached per key string, at most this many of each kind (then the cache starts
# over); keys longer than _CACHED_KEY are decided each time rather than kept alive.
_CACHE_SIZE: Final = 4096
_CACHED_KEY: Final = 256

_CONTAINERS: Final = (dict, list, tuple)

_T = TypeVar("_T")
_Container: TypeAlias = dict[Any, Any] | list[Any] | tuple[Any, ...]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_.\-]+")


def key_words(key: str) -> tuple[str, ...]:
    """The lower-cased words of a key: ``"OPENAI_API_KEY"`` and ``"apiKey"`` end in api, key."""
    return tuple(word for word in _SEPARATORS.split(_CAMEL.sub(" ", key).lower()) if word)


def nesting_depth(value: object, cap: int) -> int:
    """How deep ``value`` nests (a scalar is 0, ``[]`` is 1), counting no further than ``cap + 1``.

    Iterative, level by level: a hostile value nested 100,000 deep costs ``cap + 1`` steps
    and no recursion; a cyclic one stops at ``cap + 1`` too.
    """
    level: list[_Container] = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level and depth <= cap:
        depth += 1
        below: list[_Container] = []
        for container in level:
            children = container.values() if isinstance(container, dict) else container
            below.extend(child for child in children if isinstance(child, _CONTAINERS))
        level = below
    return depth


def too_deep(value: object, limit: int) -> bool:
    """True when ``value`` nests deeper than ``limit`` (a scalar is depth 0, ``[]`` is 1)."""
    return nesting_depth(value, limit) > limit


# --- text ----------------------------------------------------------------------------

# A key followed by ":" or "=": bare (key, db.password, X-Api-Key, --api-key, 2fa_token)
# or JSON or Python-repr quoted ("key", 'key', b'key'); or the first item of a repr'd pair,
# as in a header list: (b'authorization', b'Bearer ...'). A quoted key holds no quote, ",", ":"
# or "=" and starts the text or follows a space or one of "{[(,": so the closing quote of
# a value is never taken for the opening quote of a key that would swallow the next one.
# Possessive quantifiers: nothing backtracks. At most _KEY_SPAN characters long.
_KEY = re.compile(
    r"""
        (?<![A-Za-z0-9_]) (?P<bare>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}+) [ \t]{0,64}+ [:=]
      | (?<![^\s{(\[,]) (?=[b"'(])
        (?:
            \( [ \t]{0,64}+ b?(?P<pq>["']) (?P<pair>[^"'\\\n:=,]{1,128}+) (?P=pq) [ \t]{0,64}+ ,
          | (?: b?" (?P<dq>[^"'\\\n:=,]{1,128}+) " | b?' (?P<sq>[^"'\\\n:=,]{1,128}+) ' )
            [ \t]{0,64}+ [:=]
        )
    """,
    re.VERBOSE,
)
_KEY_SPAN: Final = 1 + 64 + 2 + 128 + 1 + 64 + 1
# A quoted string, its escapes skipped; unclosed (a lone trailing backslash included), it
# runs to the end of the text.
_QUOTED = re.compile(r"""b?(?:"(?:[^"\\]|\\.?)*+(?:"|\Z)|'(?:[^'\\]|\\.?)*+(?:'|\Z))""", re.DOTALL)
_UNQUOTED = re.compile(
    r"""(?:(?:bearer|basic|digest|token|negotiate)[ \t]++)?[^\s,;&"'()\[\]{}<>]++""",
    re.IGNORECASE,
)
_BRACKETS = re.compile(r"""[()\[\]{}"']""")
_BEARER = re.compile(r"(?<![A-Za-z0-9_])(bearer[ \t]++)[A-Za-z0-9\-._~+/]++=*+", re.IGNORECASE)
_JWT = re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]++(?:\.[A-Za-z0-9_\-]*+){2,4}+")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]{0,256}+:)[^/\s@]++@")
# Redacted anywhere, whatever the keys, in text holding their marker (lower-cased).
_CREDENTIALS: Final = (
    ("bearer", _BEARER, rf"\g<1>{REDACTED}"),
    ("eyj", _JWT, REDACTED),
    ("://", _URL_PASSWORD, rf"\g<1>{REDACTED}@"),
)


def _bracketed_end(text: str, start: int) -> int:
    """Where the bracketed value opening at ``start`` closes; the end of text if never."""
    depth = 0
    position = start
    while (found := _BRACKETS.search(text, position)) is not None:
        char = found.group()
        if char in "\"'":
            quoted = _QUOTED.match(text, found.start())
            assert quoted is not None  # an opening quote always starts a match
            position = quoted.end()
            continue
        depth += 1 if char in "([{" else -1
        position = found.end()
        if depth == 0:
            return position
    return len(text)


def _value_at(text: str, start: int) -> tuple[int, str]:
    """The end of the value starting at ``start`` and what replaces it (same end: none)."""
    if start >= len(text):
        return start, ""
    char = text[start]
    if char in "\"'" or (char == "b" and text[start + 1 : start + 2] in ("'", '"')):
        quoted = _QUOTED.match(text, start)
        assert quoted is not None
        quote = "b" + quoted.group()[1] if char == "b" else char
        return quoted.end(), f"{quote}{REDACTED}{quote[-1]}"
    if char in "([{":
        return _bracketed_end(text, start), REDACTED
    bare = _UNQUOTED.match(text, start)
    if bare is None:
        return start, ""
    return bare.end(), REDACTED


def _is_authorization(key: str) -> bool:
    return key[-13:].lower() == "authorization" and key_words(key)[-1:] == ("authorization",)


class Redactor:
    """Which keys are sensitive, and copies of payloads and text without their values.

    Built from ``HubConfig.redact_keys``; an empty tuple turns every method into the
    identity. Safe to share between tasks and threads (the caches are plain sets).
    """

    __slots__ = (
        "_clean",
        "_hints",
        "_lengths",
        "_max_depth",
        "_patterns",
        "_sensitive",
        "enabled",
        "keys",
    )

    def __init__(self, redact_keys: Iterable[str], *, max_depth: int = REDACT_DEPTH) -> None:
        self.keys: tuple[str, ...] = tuple(redact_keys)
        self._patterns = frozenset(key_words(key) for key in self.keys) - {()}
        self._lengths = sorted({len(pattern) for pattern in self._patterns})
        self._max_depth = max_depth
        self._clean: set[str] = set()
        self._sensitive: set[str] = set()
        #: False when no key is configured: nothing is redacted, anywhere.
        self.enabled = bool(self._patterns)
        # A sensitive key contains its last word, lower-cased like the text: text without
        # any of them is returned at once, and in long text only the surroundings of each
        # are scanned for keys. (str.find beats a regex alternation several times over.)
        hints = {pattern[-1] for pattern in self._patterns} | {"authorization"}
        self._hints = tuple(sorted(hints))

    def __repr__(self) -> str:
        return f"Redactor({self.keys!r})"

    def is_sensitive(self, key: object) -> bool:
        """Whether a payload or log key's value is to be redacted (cached per key)."""
        if not isinstance(key, str) or key in self._clean:
            return False
        if key in self._sensitive:
            return True
        words = key_words(key)
        count = len(words)
        hit = any(words[count - n :] in self._patterns for n in self._lengths if n <= count)
        if len(key) <= _CACHED_KEY:
            cache = self._sensitive if hit else self._clean
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache.add(key)
        return hit

    # --- payloads ------------------------------------------------------------------

    def redact(self, value: _T) -> _T:
        """``value`` itself when no key in it is sensitive, else a copy with each sensitive
        key's value (whatever its type) replaced by ``"[redacted]"``.

        Dicts, lists and tuples are looked into, ``REDACT_DEPTH`` levels deep at most;
        everything else (strings included) is kept as it is. The copy is new along every
        path that leads to a sensitive key and shares the untouched sub-values with
        ``value``, which is never modified.
        """
        if self.enabled and isinstance(value, _CONTAINERS) and self._dirty(value, 0):
            return cast(_T, self._copy(value, 0))
        return value

    def _dirty(self, value: _Container, depth: int) -> bool:
        # The hot path: a clean payload allocates nothing; a dict whose keys are all known
        # to be clean is checked by one set operation in C.
        if depth >= self._max_depth:
            return False
        children: Iterable[object]
        if isinstance(value, dict):
            if not self._clean.issuperset(value) and any(map(self.is_sensitive, value)):
                return True
            children = value.values()
        else:
            children = value
        depth += 1
        for child in children:
            if isinstance(child, _CONTAINERS) and self._dirty(child, depth):
                return True
        return False

    def _copy(self, value: object, depth: int) -> object:
        # Returns ``value`` itself when nothing under it changed.
        if depth >= self._max_depth or not isinstance(value, _CONTAINERS):
            return value
        depth += 1
        changed = False
        if isinstance(value, dict):
            copied: dict[object, object] = {}
            for key, item in value.items():
                if self.is_sensitive(key):
                    copied[key] = REDACTED
                    changed = True
                else:
                    copied[key] = new = self._copy(item, depth)
                    changed = changed or new is not item
            return copied if changed else value
        items: list[object] = []
        for item in value:
            items.append(new := self._copy(item, depth))
            changed = changed or new is not item
        if not changed:
            return value
        return tuple(items) if isinstance(value, tuple) else items

    # --- text ----------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """``text`` with the values of sensitive keys, bearer credentials, JWTs and URL
        passwords replaced by ``[redacted]``; ``text`` itself when there were none.

        Values of sensitive keys (and of any ``Authorization`` key) in ``key=value``,
        ``key: value``, ``"key": "value"``, ``'key': 'value'`` and ``('key', 'value')``:
        a quoted value keeps its quotes (``"[redacted]"``), a bracketed one (``[...]``,
        ``{...}``, ``(...)``) is replaced whole, an unquoted one up to the next space or
        ``,;&`` (with its scheme: ``Authorization: Basic ...``). ``Bearer <credential>``
        anywhere keeps the word ``Bearer``; ``user:password@`` in URLs keeps the user.
        """
        if not self.enabled:
            return text
        lowered = text.lower()
        windows = self._windows(text, lowered)
        result = self._redact_pairs(text, windows) if windows else text
        changed = result is not text
        for marker, pattern, replacement in _CREDENTIALS:
            if marker in lowered:
                result, count = pattern.subn(replacement, result)
                changed = changed or count > 0
        return result if changed else text

    def _windows(self, text: str, lowered: str) -> list[tuple[int, int]]:
        """The stretches of ``text`` that may hold a sensitive key: around each place its
        last word occurs, merged; none without one; all of it when lowering changed the
        length (some non-ASCII letters do), so that positions in ``lowered`` are off."""
        found: list[tuple[int, int]] = []
        for hint in self._hints:
            position = lowered.find(hint)
            while position >= 0:
                found.append((position - _KEY_SPAN, position + len(hint) + _KEY_SPAN))
                position = lowered.find(hint, position + 1)
        if not found or len(lowered) != len(text):
            return [(0, len(text))] if found else []
        found.sort()
        windows = [found[0]]
        for start, end in found[1:]:
            low, high = windows[-1]
            if start <= high:
                windows[-1] = (low, max(high, end))
            else:
                windows.append((start, end))
        return [(max(low, 0), min(high, len(text))) for low, high in windows]

    def _redact_pairs(self, text: str, windows: list[tuple[int, int]]) -> str:
        parts: list[str] = []
        done = 0
        for low, high in windows:
            if high <= done:
                continue
            for found in _KEY.finditer(text, max(low, done), high):
                if found.start() < done:
                    continue  # inside a value already replaced
                key = found["bare"] or found["dq"] or found["sq"] or found["pair"]
                if not (self.is_sensitive(key) or _is_authorization(key)):
                    continue
                start = found.end()
                while text[start : start + 1] in (" ", "\t"):
                    start += 1
                end, replacement = _value_at(text, start)
                if end == start:
                    continue
                parts += (text[done:start], replacement)
                done = end
        if not parts:
            return text
        parts.append(text[done:])
        return "".join(parts)


# --- logging -------------------------------------------------------------------------

_RECORD_FIELDS: Final = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SCALARS: Final = (str, int, float, bool, type(None))
_traceback_formatter = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Redacts a record in place and lets it through.

    The message is formatted with its ``%`` arguments, redacted and stored back in
    ``record.msg`` (``record.args`` becomes None); the exception and stack texts are
    formatted into ``record.exc_text`` / ``record.stack_info`` and redacted (formatters
    print ``exc_text`` when it is set; ``exc_info`` stays for handlers that want the
    exception itself). ``extra=`` fields are redacted too: a sensitive key's value becomes
    ``"[redacted]"``, strings are scrubbed like the message, dicts and lists like payloads.
    ``redactor`` may be replaced at any time (a settings reload).
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self.redactor
        if not redactor.enabled:
            return True
        try:
            message = record.getMessage()
        except Exception as error:  # a bad format: keep the line, not the arguments
            message = f"{record.msg} [arguments not shown: {type(error).__name__}: {error}]"
        record.msg = redactor.redact_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.redact_text(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_FIELDS:
                try:
                    redacted = self._field(key, value)
                except Exception:  # its str() failed: the formatter will report it
                    continue
                if redacted is not value:
                    setattr(record, key, redacted)
        return True

    def _field(self, key: str, value: object) -> object:
        redactor = self.redactor
        if redactor.is_sensitive(key):
            return REDACTED
        if isinstance(value, str):
            return redactor.redact_text(value)
        if isinstance(value, _CONTAINERS):
            return redactor.redact(value)
        if isinstance(value, _SCALARS):
            return value
        text = str(value)  # what a formatter prints: keep the object unless it leaks
        redacted = redactor.redact_text(text)
        return value if redacted is text else redacted


class _DescendantRedaction(logging.Handler):
    """First among a logger's handlers: redacts what its descendant loggers propagate.

    A logger's own filters only see records logged on that very logger, not those of its
    children ("hub.cli" under "hub"): this handler does, before any handler further up
    (the application's root handlers) formats them. It writes nothing, and when it is
    the only handler a record meets it passes the record to ``logging.lastResort`` as
    logging would have without it.
    """

    def __init__(self, redaction: RedactingFilter, owner: str) -> None:
        super().__init__()
        self.redaction = redaction
        self.owner = owner

    def handle(self, record: logging.LogRecord) -> bool:
        if record.name != self.owner:  # the owner's filter already did its own records
            self.redaction.filter(record)
        last_resort = logging.lastResort
        if last_resort is not None and record.levelno >= last_resort.level and self._alone(record):
            last_resort.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        pass

    def _alone(self, record: logging.LogRecord) -> bool:
        node = logging.Logger.manager.loggerDict.get(record.name)
        logger = node if isinstance(node, logging.Logger) else None
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return False
            logger = logger.parent if logger.propagate else None
        return True


def install_log_redaction(logger: logging.Logger, redactor: Redactor) -> RedactingFilter:
    """Redact every record of ``logger`` and of its descendants; idempotent.

    Adds a ``RedactingFilter`` to ``logger`` (its own records are redacted before any
    handler sees them) and a handler placed first among its handlers that redacts the
    records its descendants propagate through it. Calling it again replaces both, so a
    reloaded ``redact_keys`` takes effect; ``Redactor(())`` turns redaction off.
    """
    redaction = RedactingFilter(redactor)
    for old in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
        logger.removeFilter(old)
    for stale in [h for h in logger.handlers if isinstance(h, _DescendantRedaction)]:
        logger.removeHandler(stale)
    logger.addFilter(redaction)
    relay = _DescendantRedaction(redaction, logger.name)
    logger.handlers = [relay, *logger.handlers]  # one assignment: never seen half done
    return redaction
