"""`make demo`: the bot's main job on two sample feeds, with no tokens and no internet.

A local HTTP server on 127.0.0.1 serves the English and Spanish sample editions that ship
in bot/cli/data; the bot polls them, prints the headlines through the console adapter
(with the address of each headline's picture: the feeds name pictures on an example
domain, and nothing fetches them), sees one new headline appear, and answers /latest 3
and /region Asia.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from importlib import resources
from pathlib import Path

from aiohttp import web

from adapters import section_parsers
from adapters.console import ConsoleAdapter, format_reply, parse_command
from bot.app import HeadlinesBot
from bot.config import parse_config

NEW_ITEM = """
    <item>
      <title>Philippines: typhoon forces the evacuation of 200,000 people in Luzon</title>
      <link>http://world-dispatch.example/en/2026/11/philippines-typhoon</link>
      <guid isPermaLink="false">wd-en-1007</guid>
      <pubDate>{date}</pubDate>
      <media:content type="image/jpeg"
        url="http://world-dispatch.example/img/2026/11/luzon-typhoon.jpg"/>
      <description>Schools and ports in Manila are closed as the storm nears land.</description>
    </item>
  </channel>"""


class SampleFeeds:
    """A tiny feed server: serves the sample files with an ETag and answers 304."""

    def __init__(self) -> None:
        data = resources.files("bot.cli") / "data"
        self.feeds = {
            "/en.xml": (data / "sample_en.xml").read_bytes(),
            "/es.xml": (data / "sample_es.xml").read_bytes(),
        }
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self.serve)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def serve(self, request: web.Request) -> web.Response:
        body = self.feeds.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    def publish(self) -> None:
        """The English edition publishes one more headline, dated now."""
        date = format_datetime(datetime.now(UTC), usegmt=True)
        body = self.feeds["/en.xml"].decode()
        self.feeds["/en.xml"] = body.replace("\n  </channel>", NEW_ITEM.format(date=date)).encode()


async def run_demo(keep: str | None = None) -> int:
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="headlines-demo-"))
    server = SampleFeeds()
    await server.start()
    config = parse_config(
        {
            "database": str(workdir / "demo.db"),
            "backfill": 6,
            "max_age_hours": 0,
            "feeds": [
                {"name": "World Dispatch (EN)", "url": f"{server.base}/en.xml"},
                {"name": "Despacho Mundial (ES)", "url": f"{server.base}/es.xml"},
            ],
            "console": {"enabled": True},
        },
        platforms=section_parsers(),
    )
    console = ConsoleAdapter()
    bot = HeadlinesBot(config, [console])
    say = console.print
    try:
        await bot.open()
        await bot.connect()
        say(f"Headlines bot demo: two sample feeds served on {server.base} (no internet).")
        say(f"Database: {config.database}\n")
        say("== First poll: the newest headlines of each feed (backfill = 6) ==")
        await _poll_and_deliver(bot, say)

        server.publish()
        say("\n== The English edition publishes one headline; second poll ==")
        await _poll_and_deliver(bot, say)

        for text in ("/latest 3", "/region Asia"):
            say(f"\n> {text}")
            command = parse_command(text)
            assert command is not None
            say(format_reply(await bot.commands.handle(command)))
    finally:
        await bot.stop()
        await server.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    say("\nDemo finished. `python -m bot --help` shows how to run the bot for real.")
    return 0


async def _poll_and_deliver(bot: HeadlinesBot, say: Callable[[str], None]) -> None:
    for result in await bot.poll_all():
        say(f"[poll] {result.describe()}")
    sent = await bot.outbox.deliver_due()
    say(f"[outbox] {sent} posted")
