"""Region tagging benchmark: quality on the hand-labelled sets, and speed.

Runs `bot.classify.classify` on the labelled sets in tests/data (English and Spanish
headlines with summaries, labelled by hand) and prints precision, recall and F1 per region,
micro averages overall and per language for each, then how many headlines per second one
core tags and how long building the tables at import takes. The sets:

* eval: regions_eval.jsonl, the set the rules were written against;
* regressions: regions_regressions.jsonl, a reviewer's fresh headlines, used for tuning since;
* heldout: regions_heldout.jsonl, written before that tuning and never tuned on.

    .venv/bin/python -m benchmarks.classify [--seconds 3] [--misses] [--set NAME]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.regions.classify import classify
from bot.regions.names import REGIONS

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
EVAL_SET = DATA / "regions_eval.jsonl"
SETS = {
    "eval": EVAL_SET,
    "regressions": DATA / "regions_regressions.jsonl",
    "heldout": DATA / "regions_heldout.jsonl",
}


def load_eval_set(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def tag(item: dict[str, Any]) -> tuple[str, ...]:
    return classify(item["title"], item["summary"], item["categories"], item["language"])


@dataclass
class Scores:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[dict[str, Any], tuple[str, ...]]] = field(default_factory=list)

    def add(self, item: dict[str, Any], got: tuple[str, ...]) -> None:
        want = set(item["regions"])
        for region in REGIONS:
            self.tp[region] += region in want and region in got
            self.fp[region] += region not in want and region in got
            self.fn[region] += region in want and region not in got
        if want != set(got):
            self.misses.append((item, got))

    def precision(self, region: str | None = None) -> float:
        tp, fp = self._sum(self.tp, region), self._sum(self.fp, region)
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, region: str | None = None) -> float:
        tp, fn = self._sum(self.tp, region), self._sum(self.fn, region)
        return tp / (tp + fn) if tp + fn else 1.0

    def f1(self, region: str | None = None) -> float:
        p, r = self.precision(region), self.recall(region)
        return 2 * p * r / (p + r) if p + r else 0.0

    @staticmethod
    def _sum(counts: Counter[str], region: str | None) -> int:
        """One region's count, or the micro-average's (all regions) when None."""
        return counts[region] if region else sum(counts.values())


def evaluate(items: list[dict[str, Any]]) -> Scores:
    scores = Scores()
    for item in items:
        scores.add(item, tag(item))
    return scores


def speed(items: list[dict[str, Any]], seconds: float) -> float:
    """Headlines tagged per second, title, summary and categories each."""
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            tag(item)
        done += len(items)
    return done / (time.perf_counter() - start)


def import_seconds() -> float:
    """Seconds to import bot.regions.classify in a fresh interpreter (it builds its tables then)."""
    code = (
        "import time; t = time.perf_counter(); import bot.regions.classify; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def report(name: str, items: list[dict[str, Any]], misses: bool) -> None:
    scores = evaluate(items)
    languages = Counter(item["language"] for item in items)
    per_language = ", ".join(f"{n} {language}" for language, n in sorted(languages.items()))
    print(f"Set {name}: {len(items)} headlines ({per_language})")
    print(f"{'region':<15} {'n':>4} {'precision':>9} {'recall':>7} {'F1':>6}")
    for region in REGIONS:
        n = scores.tp[region] + scores.fn[region]
        print(
            f"{region:<15} {n:>4} {scores.precision(region):>9.3f} "
            f"{scores.recall(region):>7.3f} {scores.f1(region):>6.3f}"
        )
    print(
        f"{'micro':<15} {'':>4} {scores.precision():>9.3f} {scores.recall():>7.3f} "
        f"{scores.f1():>6.3f}"
    )
    for language in sorted(languages):
        subset = evaluate([item for item in items if item["language"] == language])
        print(f"micro-F1 {language}: {subset.f1():.3f}")
    exact = 1 - len(scores.misses) / len(items)
    print(f"headlines with exactly the right regions: {exact:.1%}")
    if misses:
        for item, got in scores.misses:
            print(f"  {item['title']!r}: labelled {item['regions']}, tagged {list(got)}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to time tagging")
    parser.add_argument("--misses", action="store_true", help="list the headlines tagged wrong")
    parser.add_argument("--set", choices=SETS, action="append", help="only these sets")
    args = parser.parse_args()

    for name in args.set or SETS:
        report(name, load_eval_set(SETS[name]), args.misses)
    items = load_eval_set()
    print(f"speed: {speed(items, args.seconds):,.0f} headlines/s on one core (eval set)")
    print(f"tables built at import: {import_seconds() * 1000:.0f} ms")


if __name__ == "__main__":
    main()
