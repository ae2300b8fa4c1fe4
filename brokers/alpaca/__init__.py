"""Alpaca: the live venue on alpaca-py (config, parsing, errors, streams, venue, store)."""
