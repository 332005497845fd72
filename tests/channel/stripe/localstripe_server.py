"""Runs localstripe on 127.0.0.1 for the Stripe adapter's tests: a script, never imported.

localstripe (PyPI, GPLv3) is a test-only dependency and stays out of paymesh's process: the test
fixture starts this file with the venv's Python, reads the port it prints, and stops it after the
session. Compared with ``python -m localstripe`` it

- binds 127.0.0.1 on a free port (the CLI binds ``::`` on 8420) and prints ``PORT <n>`` once
  listening, so parallel runs never collide and nothing is exposed beyond loopback;
- keeps state in memory only (the CLI pickles every change to /tmp/localstripe.pickle);
- honours ``Idempotency-Key`` on POST the way Stripe documents it (practices.md §1.1), which
  localstripe does not: the first answer is stored per (API key, idempotency key) and replayed
  with ``Idempotent-Replayed: true``; the same key with other parameters is refused with HTTP 400
  ``idempotency_error``; answers to refused requests (4xx) are not stored.

Usage: ``python localstripe_server.py`` (prints ``PORT <n>`` on stdout, serves until killed).
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web
from localstripe import resources, server  # type: ignore[import-untyped]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _idempotency_middleware() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Stripe's Idempotency-Key semantics in front of localstripe's handlers."""
    stored: dict[tuple[str, str], tuple[str, int, bytes]] = {}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        slot = (request.headers.get("Authorization", ""), key)
        body = await request.read()
        fingerprint = hashlib.sha256(request.path_qs.encode() + b"\n" + body).hexdigest()
        if slot in stored:
            first_fingerprint, status, first_body = stored[slot]
            if first_fingerprint != fingerprint:
                return web.json_response({"error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same "
                               f"parameters they were first used with. Key: {key}"}}, status=400)
            return web.Response(status=status, body=first_body, content_type="application/json",
                                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
        response = await handler(request)
        body_sent = response.body if isinstance(response, web.Response) else None
        if isinstance(body_sent, bytes) and not 400 <= response.status < 500:
            stored[slot] = (fingerprint, response.status, body_sent)
        return response

    return middleware


def main() -> None:
    """Serves localstripe on 127.0.0.1:<free port> until killed."""
    resources.Store.dump_to_disk = lambda self: None
    server.app.middlewares.append(_idempotency_middleware())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # Listening before aiohttp serves: early connections wait in the backlog, not refused.
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    asyncio.set_event_loop(asyncio.new_event_loop())
    web.run_app(server.app, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
