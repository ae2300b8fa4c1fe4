"""Pure domain of the options scalper: every trading decision, no backtrader, no I/O."""
