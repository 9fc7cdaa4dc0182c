"""A stop asked of the whole process: a scheduler's SIGTERM, or Ctrl-C.

Python delivers a signal to the main thread only, as an exception raised wherever that thread is. Inside an
extraction dlt catches it and fails the pipeline instead ("generator already executing"), while the request
threads keep retrying with backoff: a stopped ``q2c run`` went on through every source's retries (146 s against
a server answering 503, each source 72 s), then exited 1 as if a step had failed.

So the signal handlers also record the stop here, where everything that waits can see it:

- a request made after the stop fails at once with :class:`StopRequestedError`, which is never retried, and a
  retry's backoff (``http_client``) ends early on the stop;
- ``run_ingest`` starts no further source, and ``q2c run`` ends at the step the stop interrupted, recorded as
  interrupted, with the exit status the signal asked for (:func:`raise_if_stopped`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_stopped = threading.Event()
_signal: list[int] = []  # the signal that asked, once one did
_holding = [0]  # sections (held()) the main thread is in
_held = threading.Event()  # a signal came during one: raised when the outermost ends


class StopRequestedError(Exception):
    """A request (or a retry) that was due after the process was asked to stop."""


def request_stop(signum: int) -> None:
    if not _signal:
        _signal.append(signum)
    _stopped.set()


def stop_requested() -> bool:
    return _stopped.is_set()


def wait_unless_stopped(seconds: float) -> bool:
    """Sleeps ``seconds``, or less when a stop is asked meanwhile; True if it was."""
    return _stopped.wait(seconds)


def check_not_stopped(what: str) -> None:
    if _stopped.is_set():
        raise StopRequestedError(f"{what}: not sent, the run was asked to stop ({stop_signal_name()})")


def raise_if_stopped() -> None:
    """Raises what the signal asked for if a stop was asked: ``KeyboardInterrupt`` for SIGINT, else
    ``SystemExit(128 + signal)``, the exit status a shell reports for a process ended by that signal."""
    if not _stopped.is_set():
        return
    signum = _signal[0] if _signal else signal.SIGTERM
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def clear() -> None:
    """Forgets an earlier stop (a new command in the same process; tests)."""
    _stopped.clear()
    _signal.clear()
    _held.clear()


@contextmanager
def held() -> Iterator[None]:
    """A section of the main thread that the stop's exception must not cut short, such as starting a thread: cut
    short inside ``Thread.start``, the thread may run on though it never told its id, so nobody waits for it. A
    signal inside is recorded at once (:func:`stop_requested`) and raised when the outermost section ends."""
    _holding[0] += 1
    try:
        yield
    finally:
        _holding[0] -= 1
    if not _holding[0] and _held.is_set():
        _held.clear()
        raise_if_stopped()


def install_handlers() -> Callable[[], None]:
    """SIGTERM and SIGINT record the stop, then raise as before (``SystemExit(143)``, ``KeyboardInterrupt``) so
    the main thread unwinds; returns what puts the previous handlers back."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        request_stop(signum)
        if _holding[0]:
            _held.set()  # held(): raised when the section ends
            return
        raise_if_stopped()

    clear()
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def stop_signal_name() -> str:
    """The name of the signal that asked to stop ("SIGTERM"), for messages."""
    if not _signal:
        return "stop"
    try:
        return signal.Signals(_signal[0]).name
    except ValueError:
        return f"signal {_signal[0]}"
