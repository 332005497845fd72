"""Who is calling: through the edge (Envoy) or from inside the mesh.

Envoy adds ``x-paymesh-edge`` to every request it forwards, overwriting any value a client sent,
so its presence means "came from outside". Calls without it come over the internal network (gRPC
listens on loopback or a private network) and are trusted.
"""

from __future__ import annotations

import hmac

import grpc

from paymesh.services.common.errors import DomainError, PermissionDenied

EDGE_HEADER = "x-paymesh-edge"


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    pairs = context.invocation_metadata() or ()
    return {str(key).lower(): value if isinstance(value, str) else value.decode("latin-1")
            for key, value in pairs}


def header(context: grpc.aio.ServicerContext, name: str) -> str:
    """One request header as the edge forwarded it (lower-case name); empty when absent."""
    return _metadata(context).get(name, "")


def came_through_edge(context: grpc.aio.ServicerContext) -> bool:
    """True when Envoy forwarded this call from outside the mesh."""
    return EDGE_HEADER in _metadata(context)


def require_admin(context: grpc.aio.ServicerContext, admin_token: str | None) -> None:
    """Refuses an edge call without ``authorization: Bearer <admin token>``.

    Internal calls pass. With no admin token configured, every edge call is refused.
    """
    if not came_through_edge(context):
        return
    given = _metadata(context).get("authorization", "")
    expected = f"Bearer {admin_token}" if admin_token else ""
    if not expected or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise DomainError("ADMIN_TOKEN_INVALID", "a valid admin bearer token is required",
                          code=grpc.StatusCode.UNAUTHENTICATED)


def refuse_edge(context: grpc.aio.ServicerContext) -> None:
    """Internal-only RPCs (secrets in clear, change streams) are never served to the edge."""
    if came_through_edge(context):
        raise PermissionDenied("INTERNAL_ONLY", "this RPC is internal to the mesh")
