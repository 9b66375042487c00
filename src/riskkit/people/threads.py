"""When resolution work is large enough to share between threads.

Threads pay off on a million records (numpy, Arrow and rapidfuzz release Python's lock) but
cost more than they save on a few hundred: each hand-over waits for the scheduler, and under
load (a batch of briefings, the test suite's parallel workers) a small resolution took eight
times as long on threads. Below ``PARALLEL_FROM`` the same work runs on the calling thread, with
the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

PARALLEL_FROM = 50_000  # records (or record pairs) from which work is spread over threads


def worth_threads(size: int) -> bool:
    return size >= PARALLEL_FROM


@contextmanager
def pool(workers: int, name: str) -> Iterator[ThreadPoolExecutor]:
    """Worker threads for one step. When the step stops early (an error, an interrupt in a
    notebook) the caller gets control back at once: queued work is cancelled and running
    work is not waited for (it ends by itself; nothing reads its result)."""
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:
        yield executor
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


@contextmanager
def beside(threaded: bool, name: str) -> Iterator[Callable[..., Callable[[], object]]]:
    """``start(fn, *args)`` gives a callable that returns ``fn(*args)``: the work runs on one
    worker thread beside the caller when ``threaded``, else on the calling thread when its
    result is asked for (the same answer either way)."""
    if not threaded:
        yield lambda fn, *args: (lambda: fn(*args))
        return
    with pool(1, name) as worker:
        yield lambda fn, *args: worker.submit(fn, *args).result
