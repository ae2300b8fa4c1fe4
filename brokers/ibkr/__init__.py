"""Interactive Brokers (TWS / IB Gateway) adapter of the live venue protocol, on ib_async (ib_insync fallback)."""
