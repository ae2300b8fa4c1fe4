"""``AlpacaStore``: the core's ``LiveStore`` over an ``AlpacaVenue`` (everything else is written once there)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from brokers.alpaca.venue import AlpacaVenue, venue_from_environment
from brokers.live.store import LiveStore


class AlpacaStore(LiveStore):
    """``LiveStore(AlpacaVenue(...))``; without a venue, one from ``options`` and the environment."""

    def __init__(
        self,
        venue: AlpacaVenue | None = None,
        *,
        options: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        **store_params: Any,
    ) -> None:
        super().__init__(
            venue or venue_from_environment(options or {}, os.environ if env is None else env), **store_params
        )


__all__ = ["AlpacaStore"]
