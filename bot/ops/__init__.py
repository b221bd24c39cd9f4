"""What operators see of the bot and hear from it: health, Prometheus metrics, alerts."""
