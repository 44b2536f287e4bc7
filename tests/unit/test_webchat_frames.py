"""The widget's socket frames: a resume past any real sequence number is a clear error frame, not
a database overflow that drops the socket."""

from __future__ import annotations

import json

import pytest

from connectors.webchat import MAX_SEQ, FrameError, parse_frame


@pytest.mark.parametrize("after", [MAX_SEQ + 1, 10**30, 2**63])
def test_a_resume_past_any_sequence_number_is_refused(after: int) -> None:
    with pytest.raises(FrameError, match="after must be at most"):
        parse_frame(json.dumps({"type": "resume", "after": after}))


def test_a_resume_within_range_is_read() -> None:
    assert parse_frame(json.dumps({"type": "resume", "after": MAX_SEQ})).after == MAX_SEQ
    assert parse_frame(json.dumps({"type": "resume", "after": -5})).after == 0
