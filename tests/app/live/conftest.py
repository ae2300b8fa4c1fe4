"""A catalog of the bundled sample's SPY (2024-10-28 warm-up, 2024-10-29 traded), built once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

SPY_DAY = date(2024, 10, 29)  # ema_cloud opens a SPY scalp at 11:47 ET on this day of the sample
FIRST = date(2024, 10, 28)


@pytest.fixture(scope="session")
def spy_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from feeds.catalog import Catalog
    from feeds.synthetic.sample import ensure_sample

    catalog = Catalog(tmp_path_factory.mktemp("live-runtime-spy") / "catalog")
    catalog.ingest(ensure_sample(progress=False), symbols=["SPY"], start=FIRST, end=SPY_DAY, progress=False)
    return Path(catalog.root)


@pytest.fixture(scope="session")
def tsla_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's TSLA from 2024-10-28 to TSLA_DAY (two warm-up sessions)."""
    from tests.support.live_runs import TSLA_DAY, sample_catalog

    return sample_catalog(tmp_path_factory, "TSLA", TSLA_DAY)
