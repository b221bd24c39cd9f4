"""Fakes of the outside world (Telegram, Discord, feed servers, an adapter) for tests
and benchmarks."""
