"""Delivering what is owed: who gets which headline when, and sending it."""
