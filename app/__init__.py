"""The application: what ``run_backtest.py`` and ``run_live.py`` do, and parameter sweeps."""

import feeds  # noqa: F401  first: its allocator settings precede pandas/pyarrow (feeds/allocators.py)
