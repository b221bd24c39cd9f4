"""`python -m bot classify`: the regions of a headline and why, for operators tuning rules.

    python -m bot classify "Pakistan: protests over power prices" --summary "..."
    python -m bot classify --jsonl < headlines.jsonl > tagged.jsonl

With `--feed NAME` the feed's keyword rules and regions from the config file apply, as they
do when the bot polls that feed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NamedTuple, TextIO

from bot.models import LANGUAGES
from bot.regions.classify import FEED, classify, explain
from bot.regions.names import REGIONS

CONFIG_ENV = "HEADLINES_CONFIG"
DEFAULT_CONFIG = "config.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("title", nargs="?", help="the headline's title")
    parser.add_argument("--summary", default="", help="the headline's summary")
    parser.add_argument(
        "--category",
        action="append",
        default=[],
        metavar="TAG",
        help="a category or tag of the entry (repeatable)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="the headline's language (default: en; in --jsonl, for lines without one)",
    )
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help='read lines of {"title", "summary", "categories", "language"} on stdin and '
        'write them with "regions" added',
    )
    parser.add_argument(
        "--feed",
        metavar="NAME",
        help="apply this feed's keyword rules and regions from the config file",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get(CONFIG_ENV, DEFAULT_CONFIG),
        help=f"the TOML config file for --feed (default: ${CONFIG_ENV} or {DEFAULT_CONFIG})",
    )


class _Rules(NamedTuple):
    """The per-feed rules that `--feed` selects (none without it)."""

    default_regions: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()


def run(args: argparse.Namespace) -> int:
    """Print the regions of one headline and why, or tag JSON lines from stdin; 0 if all
    went well, 1 if some JSON lines were skipped, 2 for a usage or config error."""
    stdin, stdout = sys.stdin, sys.stdout
    rules = _Rules()
    if args.feed:
        import adapters  # the file's platform tables are read, and checked, as by `run`

        feed = adapters.load(args.config).feed(args.feed)
        if feed is None:
            print(f"classify: no feed is named {args.feed!r} in {args.config}", file=sys.stderr)
            return 2
        rules = _Rules(feed.regions, feed.keywords)
    if args.jsonl:
        if args.title:
            print("classify: give a title or --jsonl, not both", file=sys.stderr)
            return 2
        return _run_jsonl(stdin, stdout, args.language, rules)
    if not args.title:
        print(
            "classify: give a headline title, or --jsonl to read JSON lines from stdin",
            file=sys.stderr,
        )
        return 2
    evidence = explain(
        args.title,
        args.summary,
        args.category,
        args.language,
        default_regions=rules.default_regions,
        keywords=rules.keywords,
    )
    regions = [r for r in REGIONS if any(e.used and e.region == r for e in evidence)]
    print(f"Regions: {', '.join(regions) if regions else 'none (world news)'}", file=stdout)
    # "+" evidence counted, "-" evidence set aside; the note says why
    width = max(len(r) for r in REGIONS)
    for e in evidence:
        source = "" if e.signal == FEED or e.source in (e.text, e.region) else f" ({e.source})"
        note = f" - {e.note}" if e.note else ""
        mark = "+" if e.used else "-"
        print(f"  {mark} {e.region:<{width}}  {e.signal:<8}  {e.text!r}{source}{note}", file=stdout)
    return 0


def _run_jsonl(stdin: TextIO, stdout: TextIO, language: str, rules: _Rules) -> int:
    bad = 0
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            title, summary, categories, lang = _fields(item, language)
        except json.JSONDecodeError as error:
            problem = f"not valid JSON ({error.msg} at column {error.colno})"
            print(f"classify: line {number}: {problem}; line skipped", file=sys.stderr)
            bad += 1
            continue
        except ValueError as error:
            print(f"classify: line {number}: {error}; line skipped", file=sys.stderr)
            bad += 1
            continue
        item["regions"] = list(
            classify(
                title,
                summary,
                categories,
                lang,
                default_regions=rules.default_regions,
                keywords=rules.keywords,
            )
        )
        stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    if bad:
        print(f"classify: {bad} line(s) skipped", file=sys.stderr)
    return 1 if bad else 0


def _fields(item: Any, language: str) -> tuple[str, str, list[str], str]:
    """The fields of one JSON line, or ValueError saying what is wrong with it."""
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    title = item.get("title")
    summary = item.get("summary") or ""
    categories = item.get("categories") or []
    lang = item.get("language") or language
    if not isinstance(title, str):
        raise ValueError('"title" must be a string')
    if not isinstance(summary, str):
        raise ValueError('"summary" must be a string')
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise ValueError('"categories" must be a list of strings')
    if not isinstance(lang, str):
        raise ValueError('"language" must be a string such as "en" or "es"')
    return title, summary, categories, lang.split("-")[0].lower()
