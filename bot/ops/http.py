"""The optional HTTP listener (`[http] listen`): GET /healthz and GET /metrics.

Both are read-only and hold no secret. With `http.token` set, every request must carry
`Authorization: Bearer TOKEN`; listening beyond loopback without one is logged as a
warning, since the metrics describe the bot's feeds and platforms to whoever asks.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.config import HttpConfig

log = logging.getLogger(__name__)


class HttpServer:
    """Serves `health()` (JSON, 200 or 503) and `metrics()` (Prometheus text)."""

    def __init__(
        self,
        config: HttpConfig,
        health: Callable[[], Awaitable[dict[str, Any]]],
        metrics: Callable[[], Awaitable[bytes]],
    ) -> None:
        self.config = config
        self._health = health
        self._metrics = metrics
        self._runner: web.AppRunner | None = None
        self.port = 0  # the port listened on, once started

    async def start(self) -> None:
        app = web.Application(middlewares=[self._authorize])
        app.router.add_get("/healthz", self._get_health)
        app.router.add_get("/metrics", self._get_metrics)
        # No access log: probes every few seconds would drown the bot's own lines.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]
        log.info("http: /healthz and /metrics on %s:%d", self.config.host, self.port)
        if not self.config.token and not _loopback(self.config.host):
            log.warning(
                "http: listening on %s without a token: anyone who reaches it reads the "
                "bot's health and metrics (set [http] token, or listen on 127.0.0.1)",
                self.config.host,
            )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _authorize(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.config.token:
            given = request.headers.get("Authorization", "")
            expected = f"Bearer {self.config.token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return web.json_response(
                    {"error": "unauthorized: send Authorization: Bearer <http.token>"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return await handler(request)

    async def _get_health(self, request: web.Request) -> web.Response:
        report = await self._health()
        return web.Response(
            text=json.dumps(report, indent=2) + "\n",
            status=200 if report["ok"] else 503,
            content_type="application/json",
        )

    async def _get_metrics(self, request: web.Request) -> web.Response:
        body = await self._metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
