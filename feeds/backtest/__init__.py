"""The catalog's Backtrader feeds: the underlying's 1-minute clock, its macro view, the contract-feed pool."""
