"""A one-thread executor whose thread never holds up the process's exit."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_EXECUTORS: weakref.WeakSet[DaemonThreadExecutor] = weakref.WeakSet()


class DaemonThreadExecutor(Executor):
    """Runs submitted calls in order on one daemon thread.

    `ThreadPoolExecutor` threads are joined when the interpreter exits, so a daemon stopped
    while its models load (tens of seconds on a cold disk) would wait for the load to finish.
    Work cut short here is only scoring: unscored mentions are picked up at the next start.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._running = False  # a call is executing on the thread now
        _EXECUTORS.add(self)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queue `fn(*args, **kwargs)`; the thread starts on first use."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the {self._name} thread has been shut down")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            future: Future[T] = Future()
            self._jobs.put((future, fn, args, kwargs))
            return future

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            self._running = True
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the caller, like ThreadPoolExecutor
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                self._running = False

    @property
    def busy(self) -> bool:
        """Whether a call is running on the thread right now."""
        return self._running

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop after the running call; queued calls are cancelled when `cancel_futures`."""
        with self._lock:
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        job[0].cancel()
            self._jobs.put(None)
            thread = self._thread
        if wait and thread is not None:
            thread.join()


def _finish_at_exit() -> None:
    """Let a running call end before the interpreter is torn down (tests, replay, the demo).

    Runs from atexit, after non-daemon threads are joined and before finalisation: a daemon
    thread still inside torch at that point would abort the process. The daemon's own exit
    does not wait (see `exit_now_if_busy`).
    """
    for executor in list(_EXECUTORS):
        executor.shutdown(wait=False, cancel_futures=True)
        thread = executor._thread
        if thread is not None:
            thread.join(timeout=EXIT_WAIT)


EXIT_WAIT = 120.0  # seconds; a model load on a cold disk takes tens of seconds
atexit.register(_finish_at_exit)


def exit_now_if_busy(code: int = 0) -> None:
    """End the process at once when a daemon thread is still inside a call (a model loading or
    scoring after the daemon stopped).

    Interpreter shutdown would tear down torch's native thread pool under that call, which
    aborts the process (SIGABRT, "terminate called without an active exception"). Everything
    worth keeping is stored by then: the daemon has stopped and closed its database.
    """
    if not any(executor.busy for executor in list(_EXECUTORS)):
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
