"""`python -m benchmarks` (make bench) knows how to run every benchmark quickly."""

from __future__ import annotations

from benchmarks.__main__ import QUICK, benchmark_modules


def test_every_benchmark_module_has_a_quick_run_and_every_quick_run_a_module() -> None:
    modules = benchmark_modules()
    assert {"classify", "ingest", "telegram_fanout", "discord_fanout"} <= set(modules)
    assert sorted(QUICK) == modules
