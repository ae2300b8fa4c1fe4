"""DataBento readers, the day catalog, Backtrader feeds and the sample-data generator."""
