"""When resolution work is large enough to share between threads.

Threads pay off on a million records (numpy, Arrow and rapidfuzz release Python's lock) but
cost more than they save on a few hundred: each hand-over waits for the scheduler, and under
load (a batch of briefings, the test suite's parallel workers) a small resolution took eight
times as long on threads. Below ``PARALLEL_FROM`` the same work runs on the calling thread, with
the same result.
"""

from __future__ import annotations

PARALLEL_FROM = 50_000  # records (or record pairs) from which work is spread over threads


def worth_threads(size: int) -> bool:
    return size >= PARALLEL_FROM
