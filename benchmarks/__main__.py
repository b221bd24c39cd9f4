"""Runs every benchmark, each in a process of its own, and prints what each prints.

    .venv/bin/python -m benchmarks [--full] [NAME ...]

By default each benchmark runs with the small sizes in QUICK (about 75 s in all), to
see that every one still runs and to get rough figures. `--full` runs each with its own
defaults, the sizes of the figures in benchmarks/README.md (ten minutes or so). NAMEs run
only those benchmarks. Exits non-zero if any benchmark failed.
"""

from __future__ import annotations

import argparse
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

# A benchmark is a module of this package whose main() reads its own options. Adding one
# is adding a line here: its module name and the options of a quick run. A module that is
# missing here stops the run, so that no benchmark is left out unnoticed.
QUICK: dict[str, list[str]] = {
    "classify": ["--seconds", "1"],
    "commands": ["--headlines", "5000", "--runs", "100"],
    "commands_text": ["--repeat", "10"],
    "discord_fanout": ["--channels", "100", "--burst", "10"],
    "fanout_processes": ["--telegram", "60", "--discord", "100"],
    "filters": ["--seconds", "0.5"],
    "ingest": ["--feeds", "200", "--entries", "20"],
    "takeover": ["--kills", "1", "--processes", "2"],
    "telegram_fanout": ["--private", "100", "--channels", "30", "--burst", "40", "--filtered"],
}


def benchmark_modules() -> list[str]:
    """The benchmark modules in this package, in file-name order."""
    # __main__ is this runner; a module named _like_this would be a helper, not a benchmark.
    return sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if m.name[0] != "_")


def run(name: str, options: list[str]) -> tuple[int, float]:
    """Runs one benchmark, its output going straight to ours; its exit code and seconds."""
    command = [sys.executable, "-m", f"benchmarks.{name}", *options]
    print(f"== {name}: python -m benchmarks.{name} {' '.join(options)}".rstrip(), flush=True)
    started = time.monotonic()
    # Its own process: each benchmark measures its process's memory and owns its event loop.
    code = subprocess.run(command, cwd=PACKAGE.parent, check=False).returncode
    seconds = time.monotonic() - started
    print(flush=True)
    return code, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--full", action="store_true", help="each benchmark's own default sizes (slow)"
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these benchmarks")
    args = parser.parse_args()

    modules = benchmark_modules()
    unlisted = [m for m in modules if m not in QUICK]
    if unlisted:
        parser.error(
            f"benchmarks/{unlisted[0]}.py has no quick run: add a line for it to QUICK in "
            "benchmarks/__main__.py"
        )
    unknown = [n for n in args.names if n not in modules]
    if unknown:
        parser.error(f"no benchmark {unknown[0]!r}; there are: {', '.join(modules)}")

    results = {}
    for name in args.names or modules:
        results[name] = run(name, [] if args.full else QUICK[name])
    print("== summary")
    for name, (code, seconds) in results.items():
        print(f"{name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {seconds:.1f} s")
    if any(code for code, _ in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
