"""Text labels for sets of flags ("alleged_perpetrator;victim", "reason; reason"), made once per
distinct set.

Millions of rows share a handful of flag combinations. Each row gets a bit per flag; the text
is made once per distinct bit pattern and spread back by code, never once per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def bits(masks: Sequence[np.ndarray], n: int) -> np.ndarray:
    """One integer per row with bit i set where ``masks[i]`` is true (Python integers past 62 flags)."""
    out = np.zeros(n, dtype=object if len(masks) > 62 else np.int64)
    for bit, mask in enumerate(masks):
        out = out | np.where(mask, 1 << bit, 0)
    return out


def joined(patterns: np.ndarray, names: Sequence[str], sep: str, limit: int | None = None) -> tuple[np.ndarray, list[str]]:
    """(code per row, text per code): the names of the set bits, in the order of ``names``, at
    most ``limit`` of them, joined with ``sep``."""
    codes, distinct = pd.factorize(patterns)
    texts = [sep.join([name for i, name in enumerate(names) if int(p) >> i & 1][:limit]) for p in distinct]
    return codes, texts


def categorical(texts: Sequence[str], codes: np.ndarray) -> pd.Categorical:
    """Text per row as categories: a few distinct texts shared by millions of rows cost a byte
    or two each, not a string each (``texts`` may repeat)."""
    which, distinct = pd.factorize(pd.Series(list(texts), dtype=object))
    return pd.Categorical.from_codes(which[codes], categories=distinct)
