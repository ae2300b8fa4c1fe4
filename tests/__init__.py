"""The test suite (a regular package, so no installed distribution's top-level ``tests`` shadows it: eventkit 1.0.3, ib_insync's dependency, ships one)."""
