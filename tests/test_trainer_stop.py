"""Stopping on request (trainer/stop.py): the first SIGINT in an interruptible block asks for
a stop, the second raises KeyboardInterrupt, the previous handler comes back; a solve run by
run_stoppable is waited for, or left behind a second after a stop request with the standard
streams it redirected given back; exit_after_stop; mark_interrupted."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time

import pytest

from mipnn.trainer.stop import (
    STOP_GRACE,
    exit_after_stop,
    interruptible,
    mark_interrupted,
    request_stop,
    run_stoppable,
    stop_active,
    stop_requested,
    wait_for_stragglers,
)


def sigint() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at the next bytecode


def test_first_sigint_asks_second_raises_and_the_handler_comes_back():
    before = signal.getsignal(signal.SIGINT)
    with interruptible() as stop:
        assert stop_active() and not stop_requested()
        sigint()
        assert stop_requested()
        with pytest.raises(KeyboardInterrupt):
            sigint()
    assert stop.requested
    assert not stop_requested() and not stop_active()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_block_without_a_stop_says_so_and_nested_blocks_share_the_request():
    with interruptible() as outer:
        with interruptible() as inner:
            pass
        assert not inner.requested
        request_stop()
        with interruptible() as inner:
            assert stop_requested()  # an inner block does not clear the outer request
        assert inner.requested and stop_requested()
    assert outer.requested and not stop_requested()


def test_run_stoppable_returns_the_value_or_raises_the_error():
    assert run_stoppable(lambda: 7, "t") == (True, 7)  # outside a block: a plain call
    with interruptible():
        assert run_stoppable(lambda: 8, "t") == (True, 8)
        with pytest.raises(ZeroDivisionError):
            run_stoppable(lambda: 1 / 0, "t")


def test_a_stopped_solve_is_left_behind_with_the_streams_given_back():
    release = threading.Event()
    out_before, fd_before = sys.stdout, os.fstat(1).st_ino

    def solve() -> str:  # redirects stdout as Pyomo's solver interfaces do, then "solves"
        read, write = os.pipe()
        os.dup2(write, 1)
        sys.stdout = io.StringIO()
        release.wait(60)
        return "late"

    left = []
    with interruptible() as stop:
        threading.Timer(0.2, request_stop).start()
        t0 = time.perf_counter()
        done, value = run_stoppable(solve, "slow", on_leave=lambda: left.append(1))
        waited = time.perf_counter() - t0
    assert stop.requested and (done, value) == (False, None) and left == [1]
    assert STOP_GRACE <= waited < 30
    assert sys.stdout is out_before and os.fstat(1).st_ino == fd_before
    release.set()
    wait_for_stragglers()


def test_exit_after_stop_and_mark_interrupted():
    with pytest.raises(SystemExit) as exc:
        exit_after_stop(130)  # no solve left running: a normal exit
    assert exc.value.code == 130
    training = {"status": "time_limit"}
    mark_interrupted(training)
    assert training == {"status": "interrupted", "solver_status": "time_limit"}
