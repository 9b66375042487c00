"""Integer codes for the columns the analysis groups by again and again (people, cases).

Factorising a million person ids as text takes about two seconds, and the person table, the
risk features and the counts each need the same codes. The analysis stores ``person_id`` as a
categorical with sorted categories, so its codes are already there: this reads them, and
falls back to factorising for a plain column (a test's hand-built frame, a reloaded CSV).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(code per row, the distinct values in sorted order): the same answer as
    ``pd.factorize(values, sort=True)`` for a column without missing values, with only the
    values that occur (a filtered categorical keeps categories nobody holds any more)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.is_monotonic_increasing:
        codes = values.cat.codes.to_numpy()
        if not len(codes) or codes.min() >= 0:
            categories = values.cat.categories
            used = np.bincount(codes, minlength=len(categories)) > 0
            if used.all():
                return codes.astype(np.intp), pd.Index(categories)
            renumber = np.cumsum(used) - 1
            return renumber[codes], pd.Index(categories[used])
    codes, uniques = pd.factorize(values, sort=True)
    return codes, pd.Index(uniques)


def sorted_categorical(values: pd.Series) -> pd.Series:
    """``values`` as a categorical with sorted categories, so that ``sorted_codes`` is free.
    A categorical only has its categories sorted (fewer than its rows, and no text hashed)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        return values if categories.is_monotonic_increasing else values.cat.reorder_categories(categories.sort_values())
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Series(pd.Categorical.from_codes(codes, categories=uniques), index=values.index, name=values.name)
