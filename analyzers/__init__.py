"""Scalp statistics, equity curve, success criteria, report and plots.

Pure modules (no backtrader): ``stats``, ``columns`` (closed scalps as numpy
arrays, what ``criteria`` and ``execution`` compute on), ``criteria``, ``execution``,
``equity``, ``report``, ``jsonsafe``, ``plots`` (matplotlib only). Backtrader adapters:
``scalp_analyzers`` (``ScalpStats``, ``EquityCurve``, ``SuccessCriteria``) and
``analyzers.journal.JournalRecorder``.

The protocol between a strategy and these analyzers
----------------------------------------------------
The strategy the analyzers are attached to (``strategies.base.ScalpStrategyBase``
or any strategy that does the same) exposes:

``closed_scalps: list[ClosedScalp]``
    Append-only. When a Backtrader trade on an option contract closes, the
    strategy appends its ``ClosedScalp`` in its own ``notify_trade``. Backtrader
    notifies the strategy before its analyzers, so an analyzer that gets
    ``notify_trade(trade)`` with ``trade.isclosed`` finds the record already there.
    Analyzers remember how many records they have taken and take the ones after
    that index (never by ``tradeid``, so one close that yields several records, or
    a record appended without a trade, e.g. an expiry settlement, is not lost);
    ``stop()`` sweeps whatever is left.
``rejections: collections.Counter[str]`` (optional)
    Reason code -> how many signals the pipeline turned down; read in ``stop()``.

A strategy without ``closed_scalps`` is an error at ``start()``. Nothing else
of the strategy is read, and analyzers never modify it.
"""
