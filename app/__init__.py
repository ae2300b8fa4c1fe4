"""The application: what ``run_backtest.py`` and ``run_live.py`` do, and parameter sweeps."""
