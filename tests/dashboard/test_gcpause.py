"""The collector pause nests and overlaps across threads and restores the collector's state once."""

from __future__ import annotations

import gc
import threading

from dashboard.gcpause import paused_gc


def test_overlapping_pauses_reenable_the_collector_only_when_the_last_one_ends():
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with paused_gc():
        assert not gc.isenabled()
        thread.start()
        assert entered.wait(10)
    assert not gc.isenabled()  # the other thread is still inside its pause
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
