"""JWT verification with pyjwt: HS256 with a shared secret, RS256/ES256 with a public key
or a JWKS file; issuer, audience and expiry checked with a clock-skew leeway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from hub.auth.claims import Claims
from hub.core.config import HubConfig
from hub.errors import AuthError, ConfigError

# Shorter HMAC secrets can be brute-forced offline from any token (RFC 7518 §3.2).
MIN_SECRET_BYTES = 32
ASYMMETRIC = ("RS256", "ES256")


def auth_configured(config: HubConfig) -> bool:
    return bool(config.jwt_secret or config.jwt_public_key_file or config.jwt_jwks_file)


class TokenVerifier:
    """Verifies tokens against one ``HubConfig``'s keys; built once per configuration."""

    def __init__(self, config: HubConfig) -> None:
        self._config = config
        self._secret = config.jwt_secret.encode()
        if self._secret and len(self._secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"invalid hub settings: jwt_secret must be at least {MIN_SECRET_BYTES} bytes"
            )
        self._public_key: Any = None
        if config.jwt_public_key_file:
            self._public_key = _read_pem(config.jwt_public_key_file)
        self._jwks: jwt.PyJWKSet | None = None
        if config.jwt_jwks_file:
            self._jwks = _read_jwks(config.jwt_jwks_file)
        algorithms = list(config.jwt_algorithms)
        if not algorithms:
            algorithms = (["HS256"] if self._secret else []) + (
                list(ASYMMETRIC) if self._public_key or self._jwks else []
            )
        self.algorithms = algorithms

    def verify(self, token: Any) -> Claims:
        """The token's claims; ``AuthError`` with reason invalid_token or token_expired."""
        if not isinstance(token, str) or not token:
            raise AuthError("the token must be a non-empty string")
        config = self._config
        try:
            header = jwt.get_unverified_header(token)
            payload = jwt.decode(
                token,
                self._key_for(header),
                algorithms=self.algorithms,
                audience=config.jwt_audience or None,
                issuer=config.jwt_issuer or None,
                leeway=config.jwt_leeway,
                options={"verify_aud": bool(config.jwt_audience)},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired", "token_expired") from None
        except jwt.PyJWTError as error:
            # InvalidTokenError, and InvalidKeyError (no key for its kid or algorithm).
            raise AuthError(f"the token is not valid: {error}") from None
        return self._claims(payload)

    def _key_for(self, header: dict[str, Any]) -> Any:
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")
        if algorithm.startswith("HS"):
            if not self._secret:
                raise jwt.InvalidKeyError("no secret for HMAC tokens")
            return self._secret
        if self._jwks is not None:
            kid = header.get("kid")
            keys = self._jwks.keys
            if kid is None and len(keys) == 1:
                return _fitting(algorithm, keys[0].key)
            for key in keys:
                if key.key_id == kid:
                    return _fitting(algorithm, key.key)
            if self._public_key is None:
                raise jwt.InvalidKeyError(f"no key with kid {kid!r} in the JWKS")
        if self._public_key is None:
            raise jwt.InvalidKeyError("no public key for asymmetric tokens")
        return _fitting(algorithm, self._public_key)

    def _claims(self, payload: dict[str, Any]) -> Claims:
        config = self._config
        user = payload.get(config.jwt_user_claim)
        if isinstance(user, int) and not isinstance(user, bool):
            user = str(user)
        if not isinstance(user, str) or not user:
            raise AuthError(f"the token has no {config.jwt_user_claim!r} claim naming the user")
        expires = payload.get("exp")
        try:
            expires_at = float(expires) if isinstance(expires, int | float) else None
        except OverflowError:
            raise AuthError("the token's exp claim is out of range") from None
        return Claims(
            user_id=user,
            roles=frozenset(_strings(payload.get(config.jwt_roles_claim), config.jwt_roles_claim)),
            rooms=tuple(_strings(payload.get(config.jwt_rooms_claim), config.jwt_rooms_claim)),
            expires_at=expires_at,
            raw=payload,
        )


# The key type each family of asymmetric algorithms needs: pyjwt raises a bare
# TypeError, not a PyJWTError, for a token whose "alg" does not fit the key.
_KEY_TYPES: dict[str, type] = {
    "RS": RSAPublicKey,
    "PS": RSAPublicKey,
    "ES": EllipticCurvePublicKey,
}


def _fitting(algorithm: str, key: Any) -> Any:
    wanted = _KEY_TYPES.get(algorithm[:2])
    if wanted is not None and not isinstance(key, wanted):
        raise jwt.InvalidKeyError(f"no {algorithm} key (the key is {type(key).__name__})")
    return key


def _strings(value: Any, claim: str) -> list[str]:
    """A claim holding strings: a list, or one space-separated string (OAuth's "scope")."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise AuthError(f"the {claim!r} claim must be a list of strings")


def _read_pem(path: str) -> Any:
    try:
        return load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigError(f"invalid hub settings: jwt_public_key_file {path!r}: {error}") from None


def _read_jwks(path: str) -> jwt.PyJWKSet:
    try:
        return jwt.PyJWKSet.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as error:
        raise ConfigError(f"invalid hub settings: jwt_jwks_file {path!r}: {error}") from None
