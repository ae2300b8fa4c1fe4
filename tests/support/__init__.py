"""Test support: builders, doubles and the probe strategy (not part of the product)."""
