"""Everything the bot remembers: feeds, the archive, destinations and the outbox."""
