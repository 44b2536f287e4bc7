"""Log redaction: personal data never reaches a log handler, whatever the logger, the handler or
the format."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from bot.privacy.logs import FILTER, LOGGERS, install_log_redaction

EMAIL, PHONE, SIN, CARD = (
    "jane.doe@example.org",
    "514-555-0142",
    "130 692 544",
    "4111 1111 1111 1111",
)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """A handler on the root logger writing to a buffer; logging's state is put back afterwards."""
    factory = logging.getLogRecordFactory()
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # A uvicorn served earlier in this process (tests/support/served.py) may have set its loggers'
    # levels, stopped them propagating or disabled them: these tests read, on the root logger,
    # what they pass on from INFO up.
    uvicorn = [logging.getLogger(name) for name in LOGGERS if name]
    saved = [(logger.level, logger.disabled, logger.propagate) for logger in uvicorn]
    for logger in uvicorn:
        logger.setLevel(logging.NOTSET)
        logger.disabled, logger.propagate = False, True
    added: list[logging.Handler] = []
    try:
        yield buffer
    finally:
        for logger, (was_level, was_disabled, was_propagating) in zip(uvicorn, saved, strict=True):
            logger.setLevel(was_level)
            logger.disabled, logger.propagate = was_disabled, was_propagating
        root.removeHandler(handler)
        root.setLevel(level)
        logging.setLogRecordFactory(factory)
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.removeFilter(FILTER)
            for h in logger.handlers + added:
                h.removeFilter(FILTER)


def test_a_child_loggers_message_and_arguments_are_redacted(logs: io.StringIO) -> None:
    install_log_redaction()
    log = logging.getLogger("bot.conversation.worker")
    log.info("citizen wrote %r", f"my email is {EMAIL}, call {PHONE}")
    log.warning("SIN %s card %s", SIN, CARD)
    log.info(f"inline {EMAIL}")
    out = logs.getvalue()
    for value in (EMAIL, PHONE, SIN, CARD):
        assert value not in out
    assert "[email]" in out and "[phone]" in out and "[sin]" in out and "[card]" in out
    assert "citizen wrote" in out and "inline" in out


def test_context_across_arguments_falls_back_to_the_redacted_message(logs: io.StringIO) -> None:
    install_log_redaction()
    # Alone, "123-45-6789" is an SSN by its shape; "123456789" needs its cue, which is in
    # another argument.
    logging.getLogger("bot.x").info("%s %s", "my SSN is", "123456789")
    logging.getLogger("bot.x").info("payload %s", {"text": f"write me at {EMAIL}"})
    out = logs.getvalue()
    assert "123456789" not in out and EMAIL not in out
    assert "my SSN is [ssn]" in out and "[email]" in out


def test_clean_records_keep_their_arguments(logs: io.StringIO) -> None:
    install_log_redaction()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        logging.getLogger("bot.y").info("send of out-%s failed (%s): %d", 42, "retry", 500)
    finally:
        logging.getLogger().removeHandler(keep)
    assert records[0].args == (42, "retry", 500)
    assert "send of out-42 failed (retry): 500" in logs.getvalue()


def test_exception_text_is_redacted(logs: io.StringIO) -> None:
    install_log_redaction()
    try:
        raise ValueError(f"provider refused the body: {{'to': '{PHONE}', 'email': '{EMAIL}'}}")
    except ValueError:
        logging.getLogger("bot.conversation.sender").exception("send crashed")
    out = logs.getvalue()
    assert "Traceback" in out and "ValueError" in out
    assert PHONE not in out and EMAIL not in out


def test_uvicorn_access_lines_keep_their_shape(logs: io.StringIO) -> None:
    install_log_redaction()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    )
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)  # added after install: the record factory covers it
    access.propagate, propagate = False, access.propagate
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/webchat/history?session=abcdefgh&email={EMAIL}",
            "1.1",
            200,
        )
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5001",
            "GET",
            "/webchat/history?email=" + EMAIL.replace("@", "%40") + "&phone=%2B15145550142",
            "1.1",
            200,
        )
    finally:
        access.removeHandler(handler)
        access.propagate = propagate
    line, encoded = buffer.getvalue().splitlines()
    assert EMAIL not in line and "[email]" in line
    assert (
        "%40" not in encoded
        and "5145550142" not in encoded
        and "email=[email]&phone=[phone]" in encoded
    )
    assert (
        # the client's address is personal data too; the line keeps its shape
        line.startswith("[ip]:5000") and "GET /webchat/history" in line and '1.1" 200' in line
    )


def test_a_web_chat_session_token_in_a_url_is_masked(logs: io.StringIO) -> None:
    install_log_redaction()
    token = "Qm9vbGVhbl9zZXNzaW9uXzE.c2lnbmF0dXJlX29mX3RoZV9z"
    logging.getLogger("uvicorn.error").info("GET /webchat/ws?session=%s&lang=en", token)
    out = logs.getvalue()
    assert token not in out and "session=[secret]&lang=en" in out


def test_installing_twice_changes_nothing_and_covers_new_handlers(logs: io.StringIO) -> None:
    install_log_redaction()
    factory = logging.getLogRecordFactory()
    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        install_log_redaction()
        assert logging.getLogRecordFactory() is factory
        assert handler.filters.count(FILTER) == 1
        assert logging.getLogger().filters.count(FILTER) == 1
        # A record made without the factory is still redacted by the handler's filter.
        record = logging.makeLogRecord(
            {
                "name": "uvicorn.error",
                "msg": "from %s",
                "args": (EMAIL,),
                "levelno": logging.ERROR,
                "levelname": "ERROR",
            }
        )
        handler.handle(record)
        assert EMAIL not in handler.stream.getvalue() and "[email]" in handler.stream.getvalue()
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
        handler.removeFilter(FILTER)
