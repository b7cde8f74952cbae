"""The HTTP API and the operations endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.server.http import Request, Response, error_response

if TYPE_CHECKING:
    from hub.server.listener import Server


async def handle(server: Server, request: Request) -> Response:
    return error_response(404, "not_found", f"no route for {request.method} {request.path}")
