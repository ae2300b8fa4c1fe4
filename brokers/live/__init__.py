"""What every live venue shares: the venue protocol, the live feeds, chain and broker over it."""
