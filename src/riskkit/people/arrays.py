"""Distinct values of integer arrays by sorting.

numpy 2's ``np.unique`` builds a hash table when no inverse is asked for and is some fifty
times slower than a sort on millions of int64 codes; with an inverse it sorts but also does
work linkage never needs. This helper is the plain sort, for the record-pair arrays that
linkage builds in the millions.
"""

from __future__ import annotations

import numpy as np


def distinct_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``x``, sorted, and each element's position among them."""
    if not len(x):
        return x, np.empty(0, np.int64)
    order = np.argsort(x, kind="stable")
    y = x[order]
    new = np.r_[True, y[1:] != y[:-1]]
    inverse = np.empty(len(x), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return y[new], inverse
