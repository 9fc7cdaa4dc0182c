"""stop_request: what a SIGTERM or Ctrl-C leaves for the threads that wait, and what the run raises for it."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pipelines import stop_request
from pipelines.stop_request import (
    StopRequestedError,
    check_not_stopped,
    install_handlers,
    raise_if_stopped,
    request_stop,
    stop_requested,
    wait_unless_stopped,
)


def test_nothing_is_raised_until_a_stop_is_asked() -> None:
    raise_if_stopped()
    check_not_stopped("GET /v1/events")
    assert not stop_requested()
    assert wait_unless_stopped(0.01) is False


def test_sigterm_exits_with_the_status_a_shell_gives_a_process_it_ended() -> None:
    request_stop(signal.SIGTERM)
    with pytest.raises(SystemExit) as exited:
        raise_if_stopped()
    assert exited.value.code == 143
    with pytest.raises(StopRequestedError, match=r"GET /v1/events: not sent, .*\(SIGTERM\)"):
        check_not_stopped("GET /v1/events")


def test_ctrl_c_is_a_keyboard_interrupt_and_the_first_signal_is_the_one_kept() -> None:
    request_stop(signal.SIGINT)
    request_stop(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        raise_if_stopped()


def test_a_wait_ends_when_another_thread_asks_to_stop() -> None:
    ended: list[bool] = []
    thread = threading.Thread(target=lambda: ended.append(wait_unless_stopped(600)))
    thread.start()
    request_stop(signal.SIGTERM)
    thread.join(60)
    assert not thread.is_alive() and ended == [True]  # True: woken by the stop, not by the 600 s passing


def test_the_handlers_record_the_signal_raise_for_it_and_are_put_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    restore = install_handlers()
    try:
        with pytest.raises(SystemExit) as exited:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs in this (the main) thread at the next instruction
        assert exited.value.code == 143 and stop_requested()
        stop_request.clear()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert stop_requested()
    finally:
        restore()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_signal_inside_a_held_section_is_raised_when_the_section_ends() -> None:
    restore = install_handlers()
    try:
        with pytest.raises(SystemExit) as exited, stop_request.held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here, in the main thread, and must not raise
            assert stop_requested()
            finished = True
        assert finished and exited.value.code == 143
        with stop_request.held():  # raised once: a later section ends quietly
            pass
    finally:
        restore()
        stop_request.clear()
