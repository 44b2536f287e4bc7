"""Personal data in citizen messages: finding and masking emails, phones, SIN/SSN, cards and addresses."""

from bot.privacy.redact import Finding, find, luhn_ok, phone_numbers, redact, score

__all__ = ["Finding", "find", "luhn_ok", "phone_numbers", "redact", "score"]
