"""DataBento files -> Arrow columns: CBBO-1m quotes, 1-minute bars, statistics; folder discovery.

Pure readers (no backtrader, no catalog): ``cbbo`` (quotes; rows classified in ``cbbo_rows``),
``bars`` (underlying bars and statistics), ``dbn`` / ``dbn_tables`` (DBN files, decoded with
databento_dbn), ``symbology`` (instrument_id -> symbol), ``textio`` (decompression, chunking,
format sniffing), ``layout`` / ``jobs`` / ``names`` (which file holds which symbol and day).
"""

from feeds.databento.bars import read_bars, read_statistics
from feeds.databento.cbbo import ReadStats, iter_cbbo_arrow, read_cbbo, read_cbbo_arrow
from feeds.databento.textio import DataFileError

__all__ = [
    "DataFileError",
    "ReadStats",
    "iter_cbbo_arrow",
    "read_bars",
    "read_cbbo",
    "read_cbbo_arrow",
    "read_statistics",
]
