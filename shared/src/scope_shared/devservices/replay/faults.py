"""Failure injection for the replay servers: what real APIs do on a bad day.

A test queues faults; each request takes the next one (or none): `429` with Retry-After,
`500`, `503`, `timeout` (the server stalls past the client's timeout), `truncated` (a whole
response whose body stops in the middle of the document, as a proxy that cut it sends it), `cut`
(the transfer stops half way: the Content-Length announced, half the body sent, the connection
closed), `reset` (the connection closes without an answer).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Faults:
    queue: deque[str] = field(default_factory=deque)
    stall_seconds: float = 5.0
    retry_after: str = "0.2"
    requests: int = 0
    served: list[str] = field(default_factory=list)

    def inject(self, *faults: str) -> None:
        self.queue.extend(faults)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests += 1
        fault = self.queue.popleft() if self.queue else None
        self.served.append(fault or "ok")
        if fault == "429":
            return web.Response(status=429, headers={"Retry-After": self.retry_after})
        if fault in ("500", "503"):
            return web.Response(status=int(fault), text="upstream error")
        if fault == "timeout":
            await asyncio.sleep(self.stall_seconds)
        if fault == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        response = await handler(request)
        if fault == "cut" and isinstance(response, web.Response) and response.body:
            return await _cut(request, response)
        if fault == "truncated" and isinstance(response, web.Response) and response.body:
            body = bytes(response.body)  # type: ignore[arg-type]
            return web.Response(body=body[: len(body) // 2], content_type=response.content_type)
        return response


async def _cut(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send the response's headers and half its body, then close the connection."""
    body = bytes(response.body)  # type: ignore[arg-type]
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    assert request.transport is not None
    request.transport.close()
    return stream
