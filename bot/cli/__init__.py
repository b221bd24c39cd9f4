"""The command line, and the one place in bot/ that puts the platforms together."""
