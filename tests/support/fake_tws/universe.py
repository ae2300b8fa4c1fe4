"""What the fake TWS lists: the underlyings and the option contracts of the replayed day."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date

from options_scalper.model import OptionRight
from options_scalper.occ import format_occ, parse_occ
from tests.support.fake_tws.protocol import FakeContract, RequestContract

INDEX_EXCHANGES = {"SPX": "CBOE", "XSP": "CBOE", "NDX": "NASDAQ", "RUT": "RUSSELL", "VIX": "CBOE"}


def con_id_of(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x3FFFFFFF or 1


def underlying(symbol: str) -> FakeContract:
    if symbol in INDEX_EXCHANGES:
        return FakeContract(con_id_of(symbol), symbol, "IND", INDEX_EXCHANGES[symbol], local_symbol=symbol)
    return FakeContract(
        con_id_of(symbol),
        symbol,
        "STK",
        "SMART",
        local_symbol=symbol,
        primary_exchange="ARCA",
        trading_class=symbol,
    )


def option(occ_symbol: str) -> FakeContract:
    occ = parse_occ(occ_symbol)
    return FakeContract(
        con_id=con_id_of(occ.compact),
        symbol=occ.underlying,
        sec_type="OPT",
        exchange="SMART",
        expiry=occ.expiry.strftime("%Y%m%d"),
        strike=occ.strike,
        right=occ.right.value,
        multiplier="100",
        local_symbol=format_occ(occ.root, occ.expiry, OptionRight(occ.right), occ.strike, padded=True),
        trading_class=occ.root,
        occ=occ.compact,
    )


class Universe:
    """The contracts of one replayed day, looked up the way TWS matches a contract request."""

    def __init__(self, symbols: Iterable[str], option_symbols: Iterable[str]) -> None:
        self.underlyings = {s: underlying(s) for s in symbols}
        self.options = {c.occ: c for c in (option(s) for s in sorted(set(option_symbols)))}
        self.by_id = {c.con_id: c for c in [*self.underlyings.values(), *self.options.values()]}

    @classmethod
    def from_catalog(
        cls, catalog: object, symbols: Iterable[str], day: date, bare: Iterable[str] = ()
    ) -> Universe:
        """The catalog day's underlyings and their options; ``bare``: more underlyings, with no options."""
        names: set[str] = set()
        symbols = list(symbols)
        for s in symbols:
            table = catalog.read_quotes_arrow(s, day, columns=["symbol"])  # type: ignore[attr-defined]
            names.update(str(x) for x in table.column("symbol").unique().to_pylist())
        return cls([*symbols, *(b for b in bare if b not in symbols)], names)

    def match(self, req: RequestContract) -> list[FakeContract]:
        """Every listed contract the request describes (several: ambiguous; none: unknown)."""
        if req.con_id:
            c = self.by_id.get(req.con_id)
            return [c] if c else []
        if req.sec_type in ("STK", "IND", ""):
            c = self.underlyings.get(req.symbol)
            return [c] if c and (not req.sec_type or req.sec_type == c.sec_type) else []
        if req.sec_type != "OPT":
            return []
        out = []
        for c in self.options.values():
            if c.symbol != req.symbol:
                continue
            if req.expiry and not c.expiry.startswith(req.expiry):
                continue
            if req.strike and abs(c.strike - req.strike) > 1e-6:
                continue
            if req.right and c.right != req.right:
                continue
            if req.trading_class and c.trading_class != req.trading_class:
                continue
            if req.local_symbol and c.local_symbol != req.local_symbol:
                continue
            out.append(c)
        return out

    def chains(self, symbol: str) -> dict[str, tuple[list[str], list[float]]]:
        """Per trading class of ``symbol``: its expiries (YYYYMMDD) and strikes, as reqSecDefOptParams lists them."""
        out: dict[str, tuple[set[str], set[float]]] = {}
        for c in self.options.values():
            if c.symbol == symbol:
                exps, strikes = out.setdefault(c.trading_class, (set(), set()))
                exps.add(c.expiry)
                strikes.add(c.strike)
        return {tc: (sorted(e), sorted(k)) for tc, (e, k) in out.items()}


__all__ = ["Universe", "con_id_of", "option", "underlying"]
