"""The durable inbox of citizen messages, the outbox of replies, and the worker between them."""
