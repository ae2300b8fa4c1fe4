"""The one place that reaches into Backtrader's internals (backtrader 1.9.78.123): bounded line buffers.

Feeds and indicators both use it, so it belongs to neither; everything here is
documented against the Backtrader version it depends on and proven equal to the
plain path by the tests.
"""
