"""Headlines bot: follows news feeds and posts new headlines to chat platforms.

The package is platform-free; adapters/ turns it into Telegram, Discord and console bots.
"""

__version__ = "0.1.0"
