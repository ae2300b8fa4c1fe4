"""A small SPX catalog with both trading classes: SPXW dailies (PM-settled) and the AM-settled SPX monthly.

``feeds.synthetic`` writes one root per underlying; this rewrites the generated OPRA rows the
way the real chain lists them: every expiry trades as ``SPXW``, and the third-Friday expiry
is listed twice, ``SPXW`` (PM) beside the monthly ``SPX`` (AM, settled at that day's open).
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from pathlib import Path

import pytest

SPX_DAYS = [date(2024, 1, 17), date(2024, 1, 18), date(2024, 1, 19)]  # 2024-01-19: the third Friday
MONTHLY = "240119"


def _rewrite(path: Path) -> None:
    import zstandard

    text = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read().decode()
    out = io.StringIO()
    lines = text.splitlines()
    out.write(lines[0] + "\n")
    for line in lines[1:]:
        head, symbol = line.rsplit(",", 1)
        tail = symbol[6:]
        daily = head.split(",")
        daily[4] = str(int(daily[4]) ^ 0x20000000)  # another instrument id for the SPXW twin
        out.write(",".join(daily) + ",SPXW  " + tail + "\n")
        if tail.startswith(MONTHLY):
            out.write(line + "\n")  # the AM-settled monthly keeps the SPX root
    path.write_bytes(zstandard.ZstdCompressor().compress(out.getvalue().encode()))


def spx_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.getbasetemp() / "tiny-spx"
    if not (root / ".done").exists():
        from feeds.catalog import Catalog
        from feeds.synthetic.generate import generate_dataset
        from feeds.synthetic.spec import SPY_SPEC

        spec = dataclasses.replace(
            SPY_SPEC, symbol="SPX", spot=4750.0, strike_step=5.0, wing_step=50.0, penny_all=False,
            has_statistics=False, base_size=40, bar_volume=0.0 + 1.0,
        )  # fmt: skip
        generate_dataset(root, [spec], SPX_DAYS, progress=False)
        for f in sorted((root / "SPX").rglob("*.csv.zst")):
            if "cbbo" in f.parent.name:
                _rewrite(f)
        Catalog(root / ".catalog").ingest(root, progress=False)
        (root / ".done").write_text("ok")
    return root / ".catalog"
