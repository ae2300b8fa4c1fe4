"""The live runtime behind ``run_live.py``: one implementation for every broker.

``session`` runs one trading session (venue -> checks -> lock -> journal ->
reconciliation -> Cerebro); ``guard`` is the Backtrader analyzer that enforces the
trading states, the limits and expiry safety on every bar and writes the journal,
the heartbeat and the status line. The other modules are pure: ``states``
(ACTIVE / REDUCING / HALTED), ``limits`` (the order gate), ``reconcile`` (venue
versus journal at start-up), ``expiry`` (when a 0DTE must be flat), ``lock`` (one
runtime per account), ``status`` (the console line), ``logs`` (JSON log, secrets
redacted), ``compare`` (a live run against a backtest's trades).
"""
