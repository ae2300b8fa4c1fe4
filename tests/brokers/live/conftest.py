"""Catalogs of the bundled sample for the live core's end-to-end tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.live_runs import SPY_DAY, TSLA_DAY, sample_catalog


@pytest.fixture(scope="session")
def spy_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


@pytest.fixture(scope="session")
def tsla_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "TSLA", TSLA_DAY)
