"""Throwaway key pairs for the loopback fakes: made fresh each test run, never a literal in the repo.

Tests that check keys never reach a console or log line need values to look for; these
are random per run, so nothing credential-shaped is committed.
"""

from __future__ import annotations

import secrets


def fake_keys(label: str = "fake") -> tuple[str, str]:
    """A (key id, secret) pair for a loopback fake, random per call."""
    return f"{label}-key-{secrets.token_hex(6)}", f"{label}-secret-{secrets.token_hex(12)}"
