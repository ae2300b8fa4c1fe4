"""The engine on the real Catalog: synthetic DataBento files -> ingest -> ProbeScalp run."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from app.cerebro import build_cerebro
from feeds.catalog import Catalog
from feeds.synthetic.generate import generate_dataset
from feeds.synthetic.spec import SPY_SPEC
from options_scalper.model import ExitReason
from tests.support.probe import ProbeScalp
from tests.support.scalpers import FixedScalper

DAYS = [date(2024, 1, 2), date(2024, 1, 3)]


class Probe(ProbeScalp):
    def build_scalper(self):
        return FixedScalper(order_type="ask")

    def __init__(self):
        super().__init__()
        self.fills = []

    def notify_order(self, order):
        super().notify_order(order)
        if order.status in (order.Partial, order.Completed):
            for bit in order.executed.iterpending():
                self.fills.append(
                    (
                        order.data.datetime.datetime(0),
                        order.data.option_symbol,
                        order.isbuy(),
                        bit.price,
                        order.info.get("exit_reason"),
                    )
                )


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("engine")
    generate_dataset(tmp / "src", [SPY_SPEC], DAYS, progress=False)
    cat = Catalog(tmp / "cat")
    cat.ingest(tmp / "src", progress=False)
    return cat


def test_probe_on_an_ingested_catalog_trades_at_quoted_prices(catalog):
    cer = build_cerebro(Probe, str(catalog.root), ["SPY"], fromdate=DAYS[1], warmup_days=1, cash=20_000.0)
    strat = cer.run()[0]
    assert strat.closed_scalps
    quotes = catalog.read_quotes("SPY", DAYS[1]).set_index(["ts", "symbol"])
    for when, osym, is_buy, price, reason in strat.fills:
        if reason == ExitReason.EXPIRY.value:
            continue
        row = quotes.loc[(pd.Timestamp(when, tz="UTC"), osym)]
        assert price == (row["ask_px"] if is_buy else row["bid_px"])
    total = sum(c.pnl for c in strat.closed_scalps)
    assert cer.broker.getcash() == pytest.approx(20_000.0 + total)
