"""Outreach: topics citizens subscribe to (with recorded consent, SMS double opt-in), broadcasts
approved by a second supervisor, and their fan-out into the outbox."""
