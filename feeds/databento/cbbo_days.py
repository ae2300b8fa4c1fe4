"""Split a CBBO range file (``opra-pillar-20240101-20240131.cbbo-1m.dbn.zst``) into days in one pass.

The file is read once; its record batches are cut at UTC day boundaries (a US session
lies inside one UTC day) and every day gets its own row classifier and ``ReadStats``, so
each day's rows in/out and drops are its own, exactly as if it were a day file. The
symbol cache is shared, so a symbol is parsed once per file.

``iter_cbbo_days`` yields ``(day, tables, stats)`` in file order; ``tables`` streams that
day's quote tables (``QUOTE_ARROW_SCHEMA``, as ``iter_cbbo_arrow`` yields them) and must
be consumed (or abandoned: the rest of the day is then skipped) before the next day. A
row of an earlier day that turns up after a later day began is counted in the later
day's ``stats.other_days``, not kept. A read error stops the pass where it happens: the
days before it are complete.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from feeds.databento.cbbo import DEFAULT_BLOCK_BYTES, stream_quotes
from feeds.databento.cbbo_rows import ReadStats, RowClassifier
from feeds.databento.cbbo_sources import open_source
from feeds.databento.symbology import NS_PER_DAY, SymbolMap

_EPOCH = date(1970, 1, 1)


def _pieces(batches: Iterator[pa.RecordBatch], ts_column: str) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Cut each batch where the (running maximum of the) UTC day changes."""
    last = -1
    for batch in batches:
        if batch.num_rows == 0:
            continue
        col = batch.column(ts_column)
        valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
        ts = pc.fill_null(col.cast(pa.int64()), 0).to_numpy()
        days = np.where(valid, ts // NS_PER_DAY, -1)
        days = np.maximum.accumulate(np.concatenate([[last], days]))[1:]
        if days[0] < 0:  # leading rows without a time: the first day that has one
            days = np.where(days < 0, days.max(), days)
        cuts = np.flatnonzero(days[1:] != days[:-1]) + 1
        start = 0
        for end in [*cuts.tolist(), len(days)]:
            yield int(days[start]), batch.slice(start, end - start)
            start = end
        last = int(days[-1])


def iter_cbbo_days(
    path: str | Path,
    *,
    block_size: int = DEFAULT_BLOCK_BYTES,
    symbols: SymbolMap | None = None,
    underlyings: Collection[str] | None = None,
) -> Iterator[tuple[date, Iterator[pa.Table], ReadStats]]:
    """Read a (range) CBBO file once; yield each UTC day's quote tables and its own stats."""
    path = Path(path)
    wanted = frozenset(u.upper() for u in underlyings) if underlyings is not None else None
    base, batches, closer = open_source(path, ReadStats(), block_size, symbols, wanted, None)
    pieces = _pieces(batches, base.fmt.columns["ts"])
    try:
        pending = next(pieces, None)
        while pending is not None:
            day_index = pending[0]
            stats = ReadStats(files=1)
            start_ns = day_index * NS_PER_DAY
            classifier = RowClassifier(path, base.fmt, stats, wanted, (start_ns, start_ns + NS_PER_DAY))
            classifier.cache = base.cache

            def day_batches(
                classifier: RowClassifier = classifier, day_index: int = day_index
            ) -> Iterator[pa.RecordBatch]:
                nonlocal pending
                while pending is not None and pending[0] == day_index:
                    classifier.bad_rows += (
                        base.bad_rows - base.bad_rows_counted
                    )  # lines the CSV parser skipped
                    base.bad_rows_counted = base.bad_rows
                    piece, pending = pending[1], None  # a read error below ends the pass here
                    yield piece
                    pending = next(pieces, None)

            tables = stream_quotes(classifier, day_batches())
            yield _EPOCH + timedelta(days=day_index), tables, stats
            for _ in tables:  # the consumer skipped (part of) the day: read past it
                pass
    finally:
        closer()
