"""The backtest venue: the quote broker (fills at the bid/ask, expiry settlement)."""
