"""A fake chat platform that is real code: it records what it was sent and can be told to
fail, so the core's tests read like what a user would see."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.models import ChatRef, Command, Digest, Headline, Reply
from bot.ports import NO_OBSERVER, CommandCallback, Observer, PlatformHealth, SendError, Sent


@dataclass
class FakeAdapter:
    platform: str = "fake"
    per_message: int = 1
    sent: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    on_command: CommandCallback | None = None
    started: bool = False
    send_delay: float = 0.0
    start_failures: list[BaseException] = field(default_factory=list)
    digests: list[tuple[str, Digest]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (chat, text) of send_text
    # What `health` says while started; a test sets it to play a lost connection or a pause.
    state: PlatformHealth = field(default_factory=lambda: PlatformHealth(True))
    observer: Observer = NO_OBSERVER

    async def start(self, on_command: CommandCallback) -> None:
        if self.start_failures:
            raise self.start_failures.pop(0)
        self.on_command = on_command
        self.started = True

    async def send(self, chat: ChatRef, headlines: Sequence[Headline], language: str) -> Sent:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        if self.failures:
            raise self.failures.pop(0)
        batch = tuple(h.title for h in headlines[: self.per_message])
        self.sent.append((chat.chat_id, batch))
        return Sent(message_id=str(len(self.sent)), count=len(batch))

    async def send_digest(self, chat: ChatRef, digest: Digest, language: str) -> Sent:
        if self.failures:
            raise self.failures.pop(0)
        self.digests.append((chat.chat_id, digest))
        return Sent(message_id=f"digest {len(self.digests)}", count=digest.total)

    async def send_text(self, chat: ChatRef, text: str) -> Sent:
        if self.failures:
            raise self.failures.pop(0)
        self.texts.append((chat.chat_id, text))
        return Sent(message_id=f"text{len(self.texts)}")

    def health(self) -> PlatformHealth:
        return self.state if self.started else PlatformHealth(False, detail="not started")

    async def stop(self) -> None:
        self.started = False

    def fail_next(self, *errors: SendError | OSError) -> None:
        self.failures.extend(errors)

    def titles(self, chat_id: str | None = None) -> list[str]:
        return [t for c, batch in self.sent if chat_id in (None, c) for t in batch]

    async def command(
        self, text: str, chat: str = "1", *, admin: bool = True, lang: str = ""
    ) -> Reply:
        """Send `text` ("/latest 3") from chat `chat` as a user would."""
        assert self.on_command is not None, "start() the adapter first"
        name, *args = text.split()
        return await self.on_command(
            Command(name.lstrip("/"), tuple(args), ChatRef(self.platform, chat), admin, lang)
        )
