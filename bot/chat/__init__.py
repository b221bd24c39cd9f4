"""Talking with people: the commands, their answers, and the bot's words in each language."""
