"""Personal data in citizen messages: finding and masking emails, phones, SIN/SSN, cards and
addresses; its retention and erasure (bot/privacy/retention.py)."""

from bot.privacy.redact import Finding, find, luhn_ok, phone_numbers, redact, score

__all__ = ["Finding", "find", "luhn_ok", "phone_numbers", "redact", "score"]
