"""JWT verification over real sockets: HS256 with every way a token goes wrong, RS256 and
ES256 with a PEM public key file and with a JWKS file (kid selection), the three places a
token may travel (CONNECT auth, ``Authorization: Bearer``, ``?token=``, also on
long-polling), claims reaching the session, and settings refused with ``ConfigError``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest

from hub import Hub
from hub.auth import TokenVerifier
from hub.core.config import make_config
from hub.errors import AuthError, ConfigError
from tests.auth.kit import (
    OTHER_SECRET,
    SECRET,
    claims,
    ec_key,
    jwk,
    open_client,
    public_pem,
    reason_of,
    rsa_key,
    session_of,
    signed,
    token,
    write_jwks,
    write_pem,
)
from tests.conftest import StartHub
from tests.polling.wire import ENGINE, Http, Poller

ISSUER = "https://issuer.test"
AUDIENCE = "hub-tests"


def hs(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def strict(**more: Any) -> dict[str, Any]:
    """A payload the strict hub below accepts: alice, issuer, audience, 5 min to live."""
    payload = claims("alice", iss=ISSUER, aud=AUDIENCE)
    payload.update(more)
    return {key: value for key, value in payload.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_hmac(payload: dict[str, Any], key: bytes) -> str:
    """An HS256 token signed with ``key`` by hand (pyjwt refuses PEM keys as HMAC secrets:
    this is the "algorithm confusion" attack on servers that would accept it)."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def tampered(good: str) -> str:
    head, body, signature = good.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["sub"] = "mallory"
    return f"{head}.{b64(json.dumps(payload).encode())}.{signature}"


# (id, token or a callable making it, the reason expected or None when accepted)
HS256_CASES: list[tuple[str, Any, str | None]] = [
    ("good", lambda: hs(strict()), None),
    ("bad-signature", lambda: hs(strict(), OTHER_SECRET), "invalid_token"),
    ("tampered-payload", lambda: tampered(hs(strict())), "invalid_token"),
    ("expired", lambda: hs(strict(exp=int(time.time()) - 120)), "token_expired"),
    ("expired-within-leeway", lambda: hs(strict(exp=int(time.time()) - 5)), None),
    ("not-yet-valid", lambda: hs(strict(nbf=int(time.time()) + 120)), "invalid_token"),
    ("nbf-within-leeway", lambda: hs(strict(nbf=int(time.time()) + 5)), None),
    ("wrong-issuer", lambda: hs(strict(iss="https://elsewhere.test")), "invalid_token"),
    ("no-issuer", lambda: hs(strict(iss=None)), "invalid_token"),
    ("wrong-audience", lambda: hs(strict(aud="another-service")), "invalid_token"),
    ("audience-in-list", lambda: hs(strict(aud=["x", AUDIENCE])), None),
    ("no-audience", lambda: hs(strict(aud=None)), "invalid_token"),
    ("no-sub", lambda: hs(strict(sub=None)), "invalid_token"),
    ("empty-sub", lambda: hs(strict(sub="")), "invalid_token"),
    ("bool-sub", lambda: hs(strict(sub=True)), "invalid_token"),
    ("roles-not-strings", lambda: hs(strict(roles=[1, 2])), "invalid_token"),
    ("rooms-not-strings", lambda: hs(strict(rooms={"a": 1})), "invalid_token"),
    ("alg-none", lambda: jwt.encode(strict(), "", algorithm="none"), "invalid_token"),
    ("alg-not-accepted", lambda: hs(strict(), algorithm="HS512"), "invalid_token"),
    ("garbage", "not-a-token", "invalid_token"),
    ("three-dots-garbage", "a.b.c", "invalid_token"),
    ("empty-string", "", "invalid_token"),
    ("number", 42, "invalid_token"),
    ("list", ["x"], "invalid_token"),
]


@pytest.mark.parametrize(
    ("make", "expected"), [case[1:] for case in HS256_CASES], ids=[c[0] for c in HS256_CASES]
)
async def test_hs256(start_hub: StartHub, make: Any, expected: str | None) -> None:
    hub, port = await start_hub(
        jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_leeway=30
    )
    presented = make() if callable(make) else make
    async with open_client(port, connect=None) as client:
        if expected is not None:
            assert await reason_of(client, "/", {"token": presented}) == expected
            assert hub.stats().errors[expected] == 1
            assert hub.stats().sessions["/"] == 0
            return
        sid = await client.connect("/", {"token": presented})
        session = session_of(hub, sid)
        assert session.user_id == "alice"
        assert session.claims is not None and session.claims.raw["iss"] == ISSUER


async def test_numeric_user_ids(start_hub: StartHub) -> None:
    # RFC 7519 makes "sub" a string (pyjwt checks it); another user claim may be a number.
    _, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, connect=None) as client:
        assert await reason_of(client, "/", {"token": token(42)}) == "invalid_token"
    hub, port = await start_hub(jwt_secret=SECRET, jwt_user_claim="uid")
    async with open_client(port, auth={"token": token(None, uid=42)}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "42"


async def test_audience_unchecked_when_not_configured(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, auth={"token": token("alice", aud="anything")}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "alice"


async def test_zero_leeway_refuses_just_expired(start_hub: StartHub) -> None:
    _, port = await start_hub(jwt_secret=SECRET, jwt_leeway=0)
    async with open_client(port, connect=None) as client:
        assert await reason_of(client, "/", {"token": token(ttl=-2)}) == "token_expired"


async def test_claims_reach_the_session(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    exp = int(time.time()) + 600
    presented = hs(
        {"sub": "alice", "exp": exp, "roles": ["admin", "ops"], "rooms": ["a:*"], "team": "x"}
    )
    async with open_client(port, auth={"token": presented}) as client:
        session = session_of(hub, client.sids["/"])
        assert session.user_id == "alice"
        assert session.claims is not None
        assert session.claims.user_id == "alice"
        assert session.claims.roles == frozenset({"admin", "ops"})
        assert session.claims.rooms == ("a:*",)
        assert session.claims.expires_at == exp
        assert session.claims.raw["team"] == "x"
        assert session.auth == {"token": presented}
        # The user index knows the session under its token's user.
        assert list(hub.users.members("alice")) == [session]


async def test_roles_as_space_separated_string(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, auth={"token": token(roles="read write")}) as client:
        session = session_of(hub, client.sids["/"])
        assert session.claims is not None
        assert session.claims.roles == frozenset({"read", "write"})


async def test_token_without_exp_never_expires(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, auth={"token": token(ttl=None)}) as client:
        session = session_of(hub, client.sids["/"])
        assert session.claims is not None and session.claims.expires_at is None


async def test_custom_claim_names(start_hub: StartHub) -> None:
    hub, port = await start_hub(
        jwt_secret=SECRET,
        jwt_user_claim="uid",
        jwt_roles_claim="groups",
        jwt_rooms_claim="scopes",
    )
    presented = hs({"uid": "u-7", "sub": "ignored", "groups": ["g"], "scopes": ["s:*"]})
    async with open_client(port, auth={"token": presented}) as client:
        session = session_of(hub, client.sids["/"])
        assert session.user_id == "u-7"
        assert session.claims is not None
        assert session.claims.roles == frozenset({"g"})
        assert session.claims.rooms == ("s:*",)
    async with open_client(port, connect=None) as client:
        # The user claim is "uid" now: a token with only "sub" names nobody.
        assert await reason_of(client, "/", {"token": token("alice")}) == "invalid_token"


# Where the token travels


async def test_token_from_authorization_header(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    hub.namespace("/second")
    headers = {"Authorization": f"Bearer {token('alice')}"}
    async with open_client(port, headers=headers) as client:
        assert session_of(hub, client.sids["/"]).user_id == "alice"
        # Every namespace of the connection presents the opening request's token.
        sid = await client.connect("/second")
        assert session_of(hub, sid, "/second").user_id == "alice"


async def test_bearer_scheme_is_case_insensitive(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, headers={"Authorization": f"bearer {token('bob')}"}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "bob"


async def test_token_from_query(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    async with open_client(port, query={"token": token("carol")}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "carol"


async def test_header_wins_over_query(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    headers = {"Authorization": f"Bearer {token('alice')}"}
    async with open_client(port, headers=headers, query={"token": "garbage"}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "alice"


async def test_auth_payload_wins_over_header(start_hub: StartHub) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    headers = {"Authorization": f"Bearer {token('alice')}"}
    async with open_client(port, headers=headers, auth={"token": token("bob")}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "bob"
    async with open_client(port, headers=headers, connect=None) as client:
        # An auth payload whose token is bad is refused: the header is no fallback.
        assert await reason_of(client, "/", {"token": "garbage"}) == "invalid_token"
        # An auth payload without a "token" key leaves the header's token in force.
        sid = await client.connect("/", {"client": "dashboard"})
        assert session_of(hub, sid).user_id == "alice"


async def test_invalid_header_token_is_refused(start_hub: StartHub) -> None:
    _, port = await start_hub(jwt_secret=SECRET)
    headers = {"Authorization": f"Bearer {token('alice', secret=OTHER_SECRET)}"}
    async with open_client(port, headers=headers, connect=None) as client:
        assert await reason_of(client, "/") == "invalid_token"


async def test_non_bearer_authorization_is_no_token(start_hub: StartHub) -> None:
    _, port = await start_hub(jwt_secret=SECRET)
    async with open_client(
        port, headers={"Authorization": "Basic YWxpY2U6eA=="}, connect=None
    ) as client:
        assert await reason_of(client, "/") == "token_required"


@pytest.mark.parametrize("where", ["query", "header"])
async def test_polling_handshake_token(start_hub: StartHub, where: str) -> None:
    hub, port = await start_hub(jwt_secret=SECRET)
    presented = token("dave")
    getter, poster = await Http.open(port), await Http.open(port)
    try:
        if where == "query":
            reply = await getter.request("GET", f"{ENGINE}&token={presented}")
        else:
            headers = {"Authorization": f"Bearer {presented}"}
            reply = await getter.request("GET", ENGINE, headers=headers)
        assert reply.status == 200 and reply.body.startswith(b"0{"), reply
        poller = Poller(port, getter, poster, orjson.loads(reply.body[1:]))
        answer = await poller.connect("/")
        assert session_of(hub, answer["sid"]).user_id == "dave"
    finally:
        await getter.aclose()
        await poster.aclose()


# RS256 / ES256


async def test_rs256_and_es256_with_pem_files(start_hub: StartHub, tmp_path: Path) -> None:
    rsa_pem = write_pem(tmp_path / "rsa.pem", rsa_key())
    ec_pem = write_pem(tmp_path / "ec.pem", ec_key())
    pem_bytes = public_pem(rsa_key())
    rsa_hub, rsa_port = await start_hub(jwt_public_key_file=rsa_pem)
    ec_hub, ec_port = await start_hub(jwt_public_key_file=ec_pem)
    async with open_client(rsa_port, auth={"token": signed(rsa_key(), claims("r"))}) as client:
        assert session_of(rsa_hub, client.sids["/"]).user_id == "r"
    async with open_client(ec_port, auth={"token": signed(ec_key(), claims("e"))}) as client:
        assert session_of(ec_hub, client.sids["/"]).user_id == "e"
    refused = {
        "rsa-other-key": (rsa_port, signed(rsa_key("other"), claims())),
        "ec-other-key": (ec_port, signed(ec_key("other"), claims())),
        "ec-on-rsa": (rsa_port, signed(ec_key(), claims())),
        "hs256-no-secret": (rsa_port, token()),
        "hs256-with-pem-as-secret": (rsa_port, forged_hmac(claims(), pem_bytes)),
        "expired": (rsa_port, signed(rsa_key(), claims(ttl=-120))),
    }
    for name, (port, presented) in refused.items():
        async with open_client(port, connect=None) as client:
            expected = "token_expired" if name == "expired" else "invalid_token"
            assert await reason_of(client, "/", {"token": presented}) == expected, name


async def test_secret_and_public_key_together(start_hub: StartHub, tmp_path: Path) -> None:
    hub, port = await start_hub(
        jwt_secret=SECRET, jwt_public_key_file=write_pem(tmp_path / "rsa.pem", rsa_key())
    )
    for presented, user in ((token("h"), "h"), (signed(rsa_key(), claims("r")), "r")):
        async with open_client(port, auth={"token": presented}) as client:
            assert session_of(hub, client.sids["/"]).user_id == user


async def test_accepted_algorithms_setting(start_hub: StartHub, tmp_path: Path) -> None:
    _, port = await start_hub(
        jwt_public_key_file=write_pem(tmp_path / "rsa.pem", rsa_key()), jwt_algorithms=("ES256",)
    )
    async with open_client(port, connect=None) as client:
        presented = signed(rsa_key(), claims())
        assert await reason_of(client, "/", {"token": presented}) == "invalid_token"


async def test_jwks_kid_selection(start_hub: StartHub, tmp_path: Path) -> None:
    jwks = write_jwks(
        tmp_path / "jwks.json",
        jwk(rsa_key(), "k1"),
        jwk(rsa_key("second"), "k2"),
        jwk(ec_key(), "e1"),
    )
    hub, port = await start_hub(jwt_jwks_file=jwks)
    accepted = [
        (signed(rsa_key(), claims("one"), kid="k1"), "one"),
        (signed(rsa_key("second"), claims("two"), kid="k2"), "two"),
        (signed(ec_key(), claims("ec"), kid="e1"), "ec"),
    ]
    for presented, user in accepted:
        async with open_client(port, auth={"token": presented}) as client:
            assert session_of(hub, client.sids["/"]).user_id == user
    refused = {
        "kid-of-another-key": signed(rsa_key(), claims(), kid="k2"),
        "unknown-kid": signed(rsa_key(), claims(), kid="nope"),
        "no-kid-among-several": signed(rsa_key(), claims()),
        "key-not-in-set": signed(rsa_key("other"), claims(), kid="k1"),
        "hs256": token(),
    }
    for name, presented in refused.items():
        async with open_client(port, connect=None) as client:
            assert await reason_of(client, "/", {"token": presented}) == "invalid_token", name


async def test_jwks_single_key_needs_no_kid(start_hub: StartHub, tmp_path: Path) -> None:
    jwks = write_jwks(tmp_path / "jwks.json", jwk(ec_key(), None))
    hub, port = await start_hub(jwt_jwks_file=jwks)
    async with open_client(port, auth={"token": signed(ec_key(), claims("solo"))}) as client:
        assert session_of(hub, client.sids["/"]).user_id == "solo"


async def test_jwks_falls_back_to_pem_for_unknown_kid(start_hub: StartHub, tmp_path: Path) -> None:
    hub, port = await start_hub(
        jwt_jwks_file=write_jwks(tmp_path / "jwks.json", jwk(rsa_key(), "k1")),
        jwt_public_key_file=write_pem(tmp_path / "ec.pem", ec_key()),
    )
    async with open_client(
        port, auth={"token": signed(ec_key(), claims("pem"), kid="rotated")}
    ) as client:
        assert session_of(hub, client.sids["/"]).user_id == "pem"


# Settings refused


def test_short_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="jwt_secret"):
        Hub(jwt_secret="x" * 31)
    Hub(jwt_secret="x" * 32)
    Hub(jwt_secret="é" * 16)  # 32 bytes in UTF-8: the bound counts bytes


def test_reconfigure_with_short_secret_keeps_the_settings() -> None:
    hub = Hub(jwt_secret=SECRET)
    with pytest.raises(ConfigError, match="jwt_secret"):
        hub.reconfigure(jwt_secret="short")
    assert hub.config.jwt_secret == SECRET
    assert hub.policy.enabled


@pytest.mark.parametrize(
    "entry",
    ["admin=admin", "/admin", "/admin=", "=admin", " =public", "/admin=ops++admin", "/x=+"],
)
def test_malformed_namespace_access(entry: str) -> None:
    with pytest.raises(ConfigError, match="namespace_access"):
        Hub(jwt_secret=SECRET, namespace_access=(entry,))


def test_namespace_access_not_a_list() -> None:
    with pytest.raises(ConfigError, match="namespace_access"):
        Hub(jwt_secret=SECRET, namespace_access="/admin=admin")


def test_role_namespaces_need_tokens() -> None:
    with pytest.raises(ConfigError, match="requires tokens"):
        Hub(namespace_access=("/admin=admin",))
    with pytest.raises(ConfigError, match="requires tokens"):
        Hub(namespace_access=("/x=authenticated",))
    Hub(namespace_access=("/pub=public",))


def test_unreadable_keys_are_config_errors(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="jwt_public_key_file"):
        Hub(jwt_public_key_file=missing)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ConfigError, match="jwt_public_key_file"):
        Hub(jwt_public_key_file=str(garbage))
    with pytest.raises(ConfigError, match="jwt_jwks_file"):
        Hub(jwt_jwks_file=str(tmp_path / "missing.json"))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(ConfigError, match="jwt_jwks_file"):
        Hub(jwt_jwks_file=str(bad_json))
    empty = tmp_path / "empty.json"
    empty.write_text('{"keys": []}')
    with pytest.raises(ConfigError, match="jwt_jwks_file"):
        Hub(jwt_jwks_file=str(empty))


def test_verifier_reasons() -> None:
    """The verifier alone: the reasons the sockets above carry come from here."""
    verifier = TokenVerifier(make_config(jwt_secret=SECRET, jwt_leeway=0))
    assert verifier.algorithms == ["HS256"]
    assert verifier.verify(token("zoe")).user_id == "zoe"
    with pytest.raises(AuthError) as expired:
        verifier.verify(token(ttl=-5))
    assert expired.value.reason == "token_expired"
    with pytest.raises(AuthError) as invalid:
        verifier.verify(None)
    assert invalid.value.reason == "invalid_token"
    assert invalid.value.as_error() == {"reason": "invalid_token", "message": str(invalid.value)}
