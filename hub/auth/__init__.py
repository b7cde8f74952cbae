"""Authentication and authorization: JWT verification, namespace access and room rules."""

from hub.auth.claims import Claims
from hub.auth.policy import Access, Policy
from hub.auth.tokens import TokenVerifier, auth_configured

__all__ = ["Access", "Claims", "Policy", "TokenVerifier", "auth_configured"]
