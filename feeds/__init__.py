"""DataBento readers, the day catalog, Backtrader feeds and the sample-data generator."""

from feeds.allocators import configure as _configure_allocators

_configure_allocators()  # before pandas/pyarrow load: see feeds/allocators.py
