"""Personal data kept out of the logs: every log record is redacted (`[email]`, `[phone]`...)
before a handler writes it.

Two hooks, both idempotent: the log-record factory, which covers every logger and every handler,
including handlers added later (by uvicorn's logging config, a library, a test); and a filter on
the handlers (and the loggers) of the root logger and of uvicorn's loggers, for records made
without the factory (e.g. rebuilt by `logging.makeLogRecord`). A record is redacted once: the
second hook finds it marked (unless its message or arguments were replaced since).

The message keeps its shape where it can: string arguments are redacted one by one (uvicorn's
access formatter unpacks its five arguments), and only when personal data would still show (it
spans arguments, or sits in a non-string one) does the record become its redacted rendering
without arguments.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from bot.privacy.redact import redact

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
_MARK = "_govbot_redacted"
# Loggers whose formatters read record.args themselves: their arguments stay, redacted one by one.
_KEEP_ARGS = ("uvicorn.access",)
# `session=`: a web-chat session token in a URL (history, socket) is a bearer secret.
_SECRET = re.compile(r"(?i)\b(token|secret|password|access_token|session)=([^&\s\"']+)")


def _redact_text(value: str) -> str:
    """`value` redacted; a URL-encoded one ("email=jo%40example.org" in an access line) is decoded
    first when that shows personal data. Secrets in URLs are masked too (the engine calls the
    actions with `?token=`)."""
    value = _SECRET.sub(r"\1=[secret]", value)
    if "%" in value:
        plain = unquote(value)
        if plain != value and redact(plain) != plain:
            return redact(plain)
    return redact(value)


def _redact_arg(value: Any) -> Any:
    return _redact_text(value) if isinstance(value, str) else value


def _render(msg: Any, args: Any) -> str:
    message = str(msg)
    return message % args if args else message


def redact_record(record: logging.LogRecord) -> None:
    """Redact `record` in place: message, arguments, exception text and stack (once per record)."""
    done = getattr(record, _MARK, None)
    if done is not None and done[0] is record.msg and done[1] is record.args:
        # Already redacted and not changed since (`makeLogRecord` fills a record after the factory).
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string: logging reports it, with what we leave
        record.msg, record.args = redact(str(record.msg)), _redacted_args(record.args)
        setattr(record, _MARK, (record.msg, record.args))
        return
    if _redact_text(message) != message:
        msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        args = _redacted_args(record.args)
        try:
            rendered = _render(msg, args)
            clean = _redact_text(rendered) == rendered
        except Exception:  # noqa: BLE001 - redacting the format string broke it
            clean = False
        if clean or record.name in _KEEP_ARGS:
            record.msg, record.args = msg, args
        else:
            record.msg, record.args = _redact_text(message), ()
    if record.exc_info and not record.exc_text:
        formatted = logging.Formatter().formatException(record.exc_info)
        if redact(formatted) != formatted:
            record.exc_text = redact(formatted)  # formatters print exc_text when it is set
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _MARK, (record.msg, record.args))


def _redacted_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_redact_arg(a) for a in args)
    if isinstance(args, Mapping):
        return {k: _redact_arg(v) for k, v in args.items()}
    return args


class RedactingFilter(logging.Filter):
    """A filter that redacts records (and lets them all through); attach it to handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact `record` in place; always True."""
        redact_record(record)
        return True


FILTER = RedactingFilter("")


def _redacting_factory(
    factory: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        redact_record(record)
        return record

    setattr(make, _MARK, True)
    return make


def install_log_redaction() -> None:
    """Redact personal data in every log record from now on. Idempotent; a new call also covers the
    handlers added since the last (e.g. uvicorn's, configured after the first call)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, _MARK, False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
        for handler in logger.handlers:
            if FILTER not in handler.filters:
                handler.addFilter(FILTER)
