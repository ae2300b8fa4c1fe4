"""One RejectReason enum for every stage's reason codes."""

from __future__ import annotations

import pytest

from options_scalper import gates, scalper, selection
from options_scalper.model import Rejection
from options_scalper.reasons import RejectReason


def test_rejection_code_is_a_plain_str_of_the_enum() -> None:
    r = Rejection(RejectReason.SPREAD_TOO_WIDE, "too wide")
    assert r.reason_code == "spread_too_wide" and type(r.reason_code) is str


def test_rejection_with_an_unknown_code_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="'spread_wide' is not a RejectReason"):
        Rejection("spread_wide", "the old gate code")


def test_stages_share_one_member_for_one_concept() -> None:
    assert gates.SPREAD_WIDE is selection.SPREAD_TOO_WIDE is RejectReason.SPREAD_TOO_WIDE
    assert gates.DELTA_OUT_OF_RANGE is selection.DELTA_OUT_OF_RANGE
    assert scalper.MAX_CONCURRENT is RejectReason.MAX_CONCURRENT


def test_codes_are_unique_snake_case() -> None:
    values = [m.value for m in RejectReason]
    assert len(values) == len(set(values))
    assert all(v == v.lower() and " " not in v for v in values)
