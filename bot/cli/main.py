"""Command line: `python -m bot run|check-config|poll|status|enable|migrate|demo|classify`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import __version__, filters
from bot.config import DATABASE_URL_ENV, Config, ConfigError, secrets
from bot.ingest.poller import duration
from bot.ports import CannotStart
from bot.store import DatabaseInUse, StorageError, describe, is_postgres

log = logging.getLogger("bot")

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "HEADLINES_CONFIG"


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot 22 gives retry_after as a timedelta only when asked, and warns
    # on every 429 otherwise; the adapter reads either form.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = _parser()
    args = parser.parse_args(argv)
    quiet = args.func in (_demo, _classify)
    logging.basicConfig(
        level=(args.log_level or ("warning" if quiet else "info")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # HTTP client libraries log request URLs, and Telegram's carry the bot token.
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return args.func(args)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    except (DatabaseInUse, CannotStart) as error:  # what the user must settle: exit 2
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StorageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headlines-bot",
        description="Follows news feeds and posts new headlines, tagged by world region, "
        "to Telegram and Discord.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="how much to log to stderr (default: info; warning for demo and classify)",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, func: object, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config",
            default=os.environ.get(CONFIG_ENV, DEFAULT_CONFIG),
            help=f"the TOML config file (default: ${CONFIG_ENV} or {DEFAULT_CONFIG})",
        )

    with_config(command("run", _run, "Run the bot: poll feeds and post until stopped."))
    with_config(
        command("check-config", _check_config, "Check the config file and say what it does.")
    )
    poll = command("poll", _poll, "Poll every feed once and deliver what is new.")
    with_config(poll)
    poll.add_argument(
        "--once", action="store_true", help="one pass, then exit (the only mode; for clarity)"
    )
    poll.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be posted instead of sending it; nothing is marked sent",
    )
    status = command("status", _status, "Show feeds, errors, backoff and pending posts.")
    with_config(status)
    status.add_argument(
        "--json", action="store_true", help="the same data as JSON, with stable keys, for scripts"
    )
    enable = command(
        "enable",
        _enable,
        "Poll a disabled feed again, or post again to a deactivated destination.",
    )
    with_config(enable)
    enable.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help="a feed's name, or a destination as PLATFORM:CHAT (telegram:@news, discord:123)",
    )
    migrate = command(
        "migrate",
        _migrate,
        "Copy the config's SQLite database into an empty PostgreSQL database.",
    )
    with_config(migrate)
    migrate.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the PostgreSQL database to fill: postgresql://user@host/database",
    )
    demo = command("demo", _demo, "Run the bot on a built-in sample feed: no tokens, no network.")
    demo.add_argument("--keep", metavar="DIR", help="keep the demo's database in DIR")
    classify = command("classify", _classify, "Show the regions of a headline, and why.")
    from bot.cli import classify as classify_cli

    classify_cli.add_arguments(classify)
    return parser


def _load(args: argparse.Namespace) -> Config:
    # The command line is where the platforms meet the core: it reads every platform's
    # table of the file with the parser the adapters' registry gives for it.
    import adapters

    return adapters.load(args.config)


def _run(args: argparse.Namespace) -> int:
    from adapters import build_adapters
    from bot.app import HeadlinesBot

    config = _load(args)
    if not config.feeds:
        raise ConfigError("feeds", "no feeds configured: add at least one [[feeds]] table")
    bot = HeadlinesBot(config, build_adapters(config))
    asyncio.run(bot.run_until_signal())
    return 0


def _check_config(args: argparse.Namespace) -> int:
    config = _load(args)
    print(f"config {args.config} is valid.")
    kind = "PostgreSQL" if is_postgres(config.database) else "SQLite"
    print(f"database: {describe(config.database)} ({kind})")
    print(
        f"default poll interval: {config.poll_interval}s, backfill: {config.backfill}, "
        f"at most {config.max_posts_per_poll} posts per feed per poll"
    )
    for feed in config.feeds:
        extra = f", default regions {', '.join(feed.regions)}" if feed.regions else ""
        print(f"feed {feed.name!r}: {feed.url} every {feed.interval}s{extra}")
    for platform, destinations in config.destinations().items():
        for d in destinations:
            regions = ", ".join(d.regions) or "all regions"
            digest = f", a digest {d.digest}" if d.digest else ""
            keywords = filters.describe(d.include, d.exclude)
            shown = f"{regions}; keywords {keywords}" if keywords else regions
            print(f"{platform} destination {d.chat_id}: {shown}{digest}")
    for name, section in config.sections().items():
        for key, secret in secrets(section).items():
            print(f"{name}: {key} set ({_mask(secret)})")
    if config.http.listen:
        token = f"token set ({_mask(config.http.token)})" if config.http.token else "no token"
        print(f"http: /healthz and /metrics on {config.http.listen}, {token}")
    if not config.feeds:
        print("warning: no feeds configured")
    return 0


def _poll(args: argparse.Namespace) -> int:
    return asyncio.run(_poll_async(_load(args), dry_run=args.dry_run))


async def _poll_async(config: Config, *, dry_run: bool) -> int:
    from adapters import build_adapters
    from adapters.console import format_post
    from bot.app import HeadlinesBot

    bot = HeadlinesBot(config, [] if dry_run else build_adapters(config, one_off=True))
    # Polling beside a running bot is safe (the database keeps the writes apart); sending
    # is not.
    await bot.open(sender=False)
    try:
        results = await bot.poll_all()
        for result in results:
            print(result.describe())
        if dry_run:
            for destination in await bot.storage.pending_destinations():
                chat = destination.chat
                language = destination.language or config.language
                for delivery in await bot.storage.pending_deliveries(destination, limit=1000):
                    print(f"\n[would post to {chat.platform} {chat.chat_id}]")
                    print(format_post(delivery.headline, language))
        else:
            try:
                await bot.storage.claim_sender()
            except DatabaseInUse as error:
                print(f"delivered 0: the bot running on this database ({error.holder}) sends")
            else:
                await bot.connect()
                sent = await bot.outbox.deliver_due()
                print(f"delivered {sent}")
                for adapter in bot.adapters:
                    holder = bot.holder(adapter.platform)
                    if holder != bot.process:
                        print(f"{adapter.platform}: sent by the bot running as {holder}")
    finally:
        await bot.stop()
    return 1 if any(r.outcome in ("failed", "disabled") for r in results) else 0


def _status(args: argparse.Namespace) -> int:
    return asyncio.run(_status_async(_load(args), as_json=args.json))


def _no_database_yet(config: Config) -> bool:
    """Whether the config names an SQLite file that is not there (the bot has not run)."""
    return not is_postgres(config.database) and not Path(config.database).exists()


async def _status_async(config: Config, *, as_json: bool = False) -> int:
    from bot.ops.alerts import Alerts
    from bot.ops.status import SHOWN_STATUSES, collect
    from bot.store import Alert, Storage

    if _no_database_yet(config):
        if as_json:
            print(json.dumps({"database": {"path": str(config.database), "exists": False}}))
        else:
            print(f"no database yet at {config.database}: the bot has not run.")
        return 0
    storage = await Storage.open(config.database)
    try:
        data = await collect(storage, config)
    finally:
        await storage.close()
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    now = time.time()
    database = data["database"]
    if not database["writable"]:
        print(
            f"DATABASE CANNOT BE WRITTEN ({database['error']}): the bot polls and sends nothing "
            "until it can, then goes on by itself (free disk space, check permissions)"
        )
    print("Feeds:")
    for s in data["feeds"]:
        print(f"  {s['name']}{'' if s['configured'] else ' (no longer in config)'}: {s['url']}")
        print(
            f"    last poll {_ago(s['last_poll_at'], now)}, last success "
            f"{_ago(s['last_success_at'], now)}, status: {s['last_status'] or '-'}, "
            f"{s['headlines']} headlines stored"
        )
        if s["last_error"]:
            print(f"    last error: {s['last_error']} ({s['failures']} failures in a row)")
        if s["held"]:
            print(
                f"    HELD: {s['held']} new entries, as its ids changed "
                f"(`enable {s['name']}` or /release posts them)"
            )
        if s["disabled_reason"]:
            print(f"    DISABLED: {s['disabled_reason']} (`enable {s['name']}` polls it again)")
        elif s["next_poll_at"]:
            print(f"    next poll {_in(s['next_poll_at'], now)}")
    print("Destinations:")
    for d in data["destinations"]:
        state = (
            "active"
            if d["active"]
            else f"INACTIVE: {d['inactive_reason']} (`enable {d['platform']}:"
            f"{d['chat_id']}` or /subscribe there resumes it)"
        )
        regions = ", ".join(r or "World" for r in d["regions"]) or "all regions"
        topic = f" topic {d['thread_id']}" if d["thread_id"] else ""
        print(
            f"  {d['platform']} {d['chat_id']}{topic} {d['title']}".rstrip()
            + f" ({d['origin']}, {regions}): {state}; "
            + ", ".join(f"{status} {d['deliveries'][status]}" for status in SHOWN_STATUSES)
            # Digests: the setting, and how many headlines wait for the next one.
            + (f"; digest {d['digest']}, held {d['held']}" if d["digest"] else "")
        )
    print("Processes:" if data["processes"] else "Processes: none running")
    for p in data["processes"]:
        seen = f"last seen {p['seconds_since_seen']:.0f}s ago"
        state = "alive" if p["alive"] else "GONE (its leases ran out or will)"
        roles = ", ".join(p["roles"]) or "no role"
        polling = f"; polling {', '.join(p['polling'])}" if p["polling"] else ""
        print(f"  {p['id']} (pid {p['pid']} on {p['host']}): {state}, {seen}; {roles}{polling}")
    health = data["health"]
    print(f"Health: {'ok' if health['ok'] else 'FAILING: ' + ', '.join(health['failing'])}")
    if data["alerts"]:
        alerts = Alerts(storage, config)
        print("Open alerts:")
        for a in data["alerts"]:
            alert = Alert(0, a["kind"], a["subject"], a["detail"], a["opened"])
            print(f"  since {_iso(a['opened'])}: {alerts.text(alert, 'en')}")
    return 0


def _enable(args: argparse.Namespace) -> int:
    return asyncio.run(_enable_async(_load(args), args.names))


async def _enable_async(config: Config, names: Sequence[str]) -> int:
    from bot.ops.operator import enable
    from bot.store import Storage

    storage = await Storage.open(config.database)
    unknown = 0
    try:
        for name in names:
            done = await enable(storage, config, name)
            if done is not None and done.feed:
                held = f"; {done.released} held entries released" if done.released else ""
                print(f"feed {name}: enabled, polled again at its next turn{held}")
            elif done is not None:
                print(f"{done.chat.replace(':', ' ', 1)}: receives new headlines again")
            else:
                unknown += 1
                print(f"{name}: no such feed in the config, nor destination", file=sys.stderr)
    finally:
        await storage.close()
    return 1 if unknown else 0


def _migrate(args: argparse.Namespace) -> int:
    from bot.store.move import copy_to_postgres

    config = _load(args)
    if is_postgres(config.database):
        raise ConfigError(
            "database",
            f"is already PostgreSQL ({describe(config.database)}); `migrate --to` copies "
            "the SQLite file the config names (unset $HEADLINES_DATABASE_URL for it)",
        )
    if not is_postgres(args.to):
        raise ConfigError("--to", "must be a postgresql://user@host/database URL")
    if not Path(config.database).exists():
        raise StorageError(f"storage: no database at {config.database} to copy")
    counts = asyncio.run(copy_to_postgres(config.database, args.to, report=print))
    print(
        f"migrated {config.database} to {describe(args.to)}: "
        + ", ".join(f"{table} {count}" for table, count in counts.items())
        + f'. Set database = "{describe(args.to)}" (or ${DATABASE_URL_ENV}) and start the bot.'
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.cli.demo import run_demo

    return asyncio.run(run_demo(keep=args.keep))


def _classify(args: argparse.Namespace) -> int:
    from bot.cli import classify as classify_cli

    return classify_cli.run(args)


def _mask(secret: str) -> str:
    return f"{secret[:4]}…{len(secret)} characters" if len(secret) > 8 else "***"


def _ago(timestamp: float, now: float) -> str:
    if not timestamp:
        return "never"
    return f"{duration(now - timestamp)} ago ({_iso(timestamp)})"


def _in(timestamp: float, now: float) -> str:
    return "now" if timestamp <= now else f"in {duration(timestamp - now)} ({_iso(timestamp)})"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
