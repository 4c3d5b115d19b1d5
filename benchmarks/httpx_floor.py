"""The lowest-level client, the floor under every contender: httpx's own transport (no
client, no cookies, no event hooks), a request whose JSON is built from a dict already in
wire shape, and ``pydantic_core.from_json``, the fastest parser the project uses."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic_core import from_json, to_json

KEY = "bench-key"


class HttpxFloor:
    """The lowest-level client: httpx's transport, a prebuilt request, ``from_json``."""

    def __init__(self, base: str, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport or httpx.HTTPTransport()
        self._async: dict[asyncio.AbstractEventLoop, httpx.AsyncHTTPTransport] = {}
        self._url = base + "/v1/chat/completions"
        self._headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}"}

    def _send(self, body: dict[str, Any]) -> httpx.Response:
        request = httpx.Request("POST", self._url, content=to_json(body), headers=self._headers)
        return self._transport.handle_request(request)

    def call(self, body: dict[str, Any]) -> object:
        response = self._send(body)
        try:
            return from_json(response.read())
        finally:
            response.close()

    def stream(self, body: dict[str, Any]) -> int:
        """Every ``data:`` line parsed, the text and the arguments kept."""
        response = self._send({**body, "stream": True})
        count, parts, rest = 0, [], b""
        try:
            for piece in response.stream:
                lines = (rest + piece).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.startswith(b"data: {"):
                        choices = from_json(line[6:])["choices"]
                        if choices:
                            delta = choices[0]["delta"]
                            parts.append(delta.get("content") or "")
                            for call in delta.get("tool_calls") or ():
                                parts.append(call["function"].get("arguments") or "")
                        count += 1
        finally:
            response.close()
        "".join(parts)
        return count

    async def acall(self, body: dict[str, Any]) -> object:
        loop = asyncio.get_running_loop()
        transport = self._async.get(loop)
        if transport is None:
            transport = self._async[loop] = httpx.AsyncHTTPTransport()
        request = httpx.Request("POST", self._url, content=to_json(body), headers=self._headers)
        response = await transport.handle_async_request(request)
        try:
            return from_json(await response.aread())
        finally:
            await response.aclose()
