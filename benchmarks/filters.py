"""Keyword filter benchmark: what a filter costs per headline, on one core.

Reads each headline once (`filters.Text.of`: fold case and accents, split into words, as
the delivery plan does once per new headline for all chats), then matches filters of
`--terms` terms against it (`filters.passes`, once per chat with a filter): the worst
case, where no include term is found so every one is looked up, with a third of them
phrases. Headlines are the evaluation set's (tests/data), English and Spanish, with
summaries. Prints microseconds per headline for each part.

    .venv/bin/python -m benchmarks.filters [--terms 50] [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot import filters
from bot.models import Headline

T = TypeVar("T")
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "regions_eval.jsonl"


def headlines() -> list[Headline]:
    found = []
    for n, line in enumerate(DATA.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            row = json.loads(line)
            found.append(
                Headline(
                    "bench",
                    str(n),
                    row["title"],
                    "https://example.org",
                    row.get("summary", ""),
                    datetime.now(UTC),
                    tuple(row.get("categories", ())),
                )
            )
    return found


def terms(count: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`count` terms no headline holds (so every one is looked up), a third of them
    phrases whose first word is common ('the', 'de': compared at each place it occurs)."""
    common = ("the", "de", "la")
    chosen = [f"{common[i % 3]} zz{i}" if i % 3 == 0 else f"zz{i}" for i in range(count)]
    half = count // 2
    return tuple(filters.term(t) for t in chosen[:half]), tuple(
        filters.term(t) for t in chosen[half:]
    )


def per_headline(call: Callable[[T], object], items: Sequence[T], seconds: float) -> float:
    """Microseconds per item of `call(item)`, over at least `seconds`."""
    done, started = 0, time.perf_counter()
    while True:
        for item in items:
            call(item)
        done += len(items)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=50, help="terms in the filter")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measure")
    args = parser.parse_args()
    items = headlines()
    include, exclude = terms(args.terms)
    texts = [filters.Text.of(h) for h in items]
    assert not any(filters.passes(include, exclude, t) for t in texts)  # all looked up
    words = sum(len(t.words) for t in texts) / len(texts)
    read = per_headline(filters.Text.of, items, args.seconds)
    match = per_headline(lambda t: filters.passes(include, exclude, t), texts, args.seconds)
    print(f"{len(items)} headlines ({words:.0f} words each on average), {args.terms} terms")
    print(f"{'measure':<44} {'us/headline':>12}")
    print(f"{'read the headline (once, for all chats)':<44} {read:>12.1f}")
    print(f"{f'match a filter of {args.terms} terms (per chat)':<44} {match:>12.1f}")


if __name__ == "__main__":
    main()
