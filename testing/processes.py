"""The bot as a user runs it: `python -m bot ...` in a process of its own, for the tests
that stop, kill and restart it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def bot_cli(*args: str) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` to its end: exit code, stdout, stderr. One that has not
    ended after a minute is killed, and the test fails on its missing code."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:  # timed out: a bot that should have exited did not
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def start_bot(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`python -m bot ARGS run --config CONFIG` in the background, its stderr (and stdout)
    appended to `log`; the caller stops or kills it."""
    env = {**os.environ, "PTB_TIMEDELTA": "1"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args, "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, tries: int = 600
) -> None:
    """Wait until `condition()` holds (polling every 50 ms), failing with the end of the
    bot's log if the bot exits first or it never holds."""
    for _ in range(tries):
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the bot exited early with {process.returncode}:\n{tail(log)}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for the bot:\n{tail(log)}")


def tail(log: Path) -> str:
    return log.read_text()[-3000:]
