"""Stopping a training run early on request (Ctrl-C), keeping the best it has found.

While :func:`interruptible` is active (``mipnn train``, the estimator's ``fit``), the first
SIGINT only *requests* a stop, and every long part of training polls the request: the
gradient baseline between epochs, HiGHS in its MIP, simplex and interior-point interrupt
callbacks (within a fraction of a second, a long root LP included), Gurobi in its callback,
large-neighbourhood search between sub-MIPs, batch training while it waits for its workers.
Each part then returns the best it has, so the run ends within about a second with the best
network found so far, which the caller keeps (and records as interrupted). A second SIGINT
raises KeyboardInterrupt at once. Outside :func:`interruptible`, and in other threads than
the main one, SIGINT keeps Python's default (KeyboardInterrupt).

The request is process-wide state, as a signal is: one flag, set by the handler (or by
:func:`request_stop`), read by :func:`stop_requested`, cleared when the outermost
:func:`interruptible` ends."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")
STOP_GRACE = 1.0  # seconds a stopped solve may take to return before it is left behind

_REQUESTED = threading.Event()
_DEPTH = [0]  # nested interruptible blocks: only the outermost installs the handler
_STRAGGLERS: list[threading.Thread] = []  # solves left to end by themselves after a stop


class StopRequested(Exception):
    """Raised where a requested stop cannot return a partial result (batch training waiting
    for its workers: the checkpoint holds the epochs done)."""


def stop_requested() -> bool:
    """Whether a stop was requested (a first Ctrl-C inside :func:`interruptible`)."""
    return _REQUESTED.is_set()


def stop_active() -> bool:
    """Whether an :func:`interruptible` block is running (a stop may be requested)."""
    return _DEPTH[0] > 0


def request_stop() -> None:
    """Request a stop, as a first Ctrl-C does (for tests and for callers of the API)."""
    _REQUESTED.set()


def raise_if_stopped() -> None:
    """StopRequested when a stop was requested."""
    if _REQUESTED.is_set():
        raise StopRequested("stop requested")


def mark_interrupted(training: dict[str, Any]) -> None:
    """Record in a model's ``training`` that its run was stopped on request: ``status``
    becomes ``"interrupted"``, the status the run had reached is kept as
    ``solver_status``."""
    training["solver_status"] = training.get("status")
    training["status"] = "interrupted"


@dataclass
class Interruption:
    """What :func:`interruptible` yields: whether a stop was requested in its block."""

    requested: bool = False


def _handler(_signum: int, _frame: Any) -> None:
    if _REQUESTED.is_set():
        raise KeyboardInterrupt  # the second Ctrl-C: abort at once
    _REQUESTED.set()


@contextmanager
def interruptible() -> Iterator[Interruption]:
    """A block in which the first SIGINT requests a stop and the second raises
    KeyboardInterrupt; on leaving it, the previous SIGINT handler is back, the request is
    cleared, and the yielded :class:`Interruption` says whether a stop was requested. In a
    thread other than the main one it only tracks :func:`request_stop`."""
    state = Interruption()
    main = threading.current_thread() is threading.main_thread()
    previous = None
    if _DEPTH[0] == 0:
        _REQUESTED.clear()
        if main:
            previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, _handler)
    _DEPTH[0] += 1
    try:
        yield state
    finally:
        _DEPTH[0] -= 1
        state.requested = _REQUESTED.is_set()
        if _DEPTH[0] == 0:
            if main:
                signal.signal(signal.SIGINT, previous if previous is not None
                              else signal.default_int_handler)
            _REQUESTED.clear()


def leave_behind(thread: threading.Thread) -> None:
    """Record a solver thread that was left to end by itself after a stop request (its
    callbacks interrupt it at their next call): :func:`wait_for_stragglers` joins it before
    the next solve and at interpreter exit, and :func:`exit_after_stop` does not wait."""
    _STRAGGLERS.append(thread)


def wait_for_stragglers() -> None:
    """Join every solver thread left behind (the next solve, and interpreter exit, where a
    native thread still running would make the C++ runtime abort the process)."""
    while _STRAGGLERS:
        _STRAGGLERS.pop().join()


atexit.register(wait_for_stragglers)


def exit_after_stop(code: int = 130, *, at_once: bool = False) -> NoReturn:
    """End a command that was stopped on request with ``code``: at once (``os._exit`` after
    flushing stdout and stderr) with ``at_once`` or when a solver thread left behind still
    runs, since waiting for it could take tens of seconds, letting the interpreter exit
    under it aborts the process, and tearing down a large solver model takes a second of
    its own; every file was already written atomically and closed. Else ``sys.exit``."""
    if at_once or any(t.is_alive() for t in _STRAGGLERS):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


class _Streams:
    """sys.stdout, sys.stderr and duplicates of file descriptors 1 and 2, taken before a
    solve starts in a thread: a solve that redirects them while it runs (Pyomo's solver
    interfaces capture the output at the file-descriptor level) and is left behind would
    otherwise keep them redirected, and everything printed after it would be lost."""

    def __init__(self) -> None:
        self.objects = (sys.stdout, sys.stderr)
        self.fds: list[tuple[int, int]] = []
        for fd in (1, 2):
            try:
                self.fds.append((fd, os.dup(fd)))
            except OSError:  # closed: nothing to restore
                pass

    def restore(self) -> None:
        for fd, copy in self.fds:
            try:
                os.dup2(copy, fd)
            except OSError:
                pass
        sys.stdout, sys.stderr = self.objects

    def close(self) -> None:
        for _fd, copy in self.fds:
            os.close(copy)
        self.fds = []


def run_stoppable(fn: Callable[[], T], name: str,
                  on_leave: Callable[[], None] | None = None) -> tuple[bool, T | None]:
    """Call ``fn`` (a solve) so that a stop request ends the wait for it: ``(True, its
    value)`` when it returned (its exception is raised), ``(False, None)`` when a stop was
    requested and it had not returned :data:`STOP_GRACE` seconds later. Inside
    :func:`interruptible`, in the main thread, ``fn`` runs in a thread of its own while this
    one waits (the solvers release the GIL); one left behind is recorded
    (:func:`leave_behind`) after ``on_leave`` is called (to make it stop at its next chance),
    and the standard streams it may have redirected are given back. Elsewhere ``fn`` is
    simply called. Only one solve runs at a time: an earlier one left behind is waited for
    first."""
    wait_for_stragglers()
    if not stop_active() or threading.current_thread() is not threading.main_thread():
        return True, fn()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting thread
            box["error"] = exc

    def leave() -> None:
        if on_leave is not None:
            on_leave()
        streams.restore()
        leave_behind(thread)

    streams = _Streams()
    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    asked: float | None = None
    try:
        while thread.is_alive():
            thread.join(0.05)
            if thread.is_alive() and stop_requested():
                asked = asked or time.perf_counter()
                if time.perf_counter() - asked >= STOP_GRACE:
                    break
        if thread.is_alive():
            leave()
            return False, None
    except BaseException:  # a second Ctrl-C (KeyboardInterrupt): leave it behind too
        leave()
        raise
    finally:
        streams.close()
    if "error" in box:
        raise box["error"]
    return True, box.get("value")
