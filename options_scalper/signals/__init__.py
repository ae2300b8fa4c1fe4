"""Signal logic of both strategies, bar by bar, with no backtrader import.

``ema_cloud``: PRD-136 EMA-cloud rules (flip, macro alignment, volume, conviction,
cloud test, exhaustion). ``momentum``: seed 003 momentum rules (velocity, volume
spike, session VWAP, support/resistance, triggers, ``MomentumSignalEngine``).
Windows are counted in 1-minute bars; times come from the bars.
"""
