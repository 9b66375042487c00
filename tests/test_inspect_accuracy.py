"""Accuracy of riskkit inspect on a labelled set of export-shaped files, generated here (fixed
seed) into a temporary folder: at least 95% of columns mapped as labelled, and no personal-data
column left unmapped without a reason."""

from __future__ import annotations

import pytest

from riskkit.inspect.corpus import SEED, evaluate, write_corpus
from riskkit.inspect.tables import read_tables


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("inspect-corpus"), files=24, seed=SEED)


def test_the_labelled_set_has_the_conventions_it_claims(corpus):
    paths = {item.path for item in corpus}
    assert len(paths) >= 20
    suffixes = {p.suffix for p in paths}
    assert {".csv", ".xlsx", ".parquet"} <= suffixes
    shapes = {(s.delimiter, s.encoding, s.header_row > 1) for p in paths if p.suffix == ".csv" for s in read_tables(p)}
    assert {d for d, _, _ in shapes} >= {",", ";", "\t"} and "cp1252" in {e for _, e, _ in shapes}
    assert any(title for _, _, title in shapes)
    hidden = [s for p in paths if p.suffix == ".xlsx" for s in read_tables(p) if s.visibility == "hidden"]
    assert hidden and any(item.sheet == "Sheet2" for item in corpus)
    assert sum(len(item.labels) for item in corpus) >= 200


def test_at_least_95_percent_of_columns_are_mapped_as_labelled(corpus):
    score = evaluate(corpus)
    assert score.accuracy >= 0.95, score.mistakes
    assert score.precision >= 0.95 and score.recall >= 0.95


def test_no_personal_column_is_left_unmapped_without_a_reason(corpus):
    assert evaluate(corpus).personal_unflagged == []


def test_the_score_falls_when_the_proposals_are_wrong(corpus):
    """The scorer can fail: labels shifted by one column score far below the bar."""
    from riskkit.inspect.corpus import Labelled

    shifted = []
    for item in corpus:
        headers = list(item.labels)
        values = list(item.labels.values())
        shifted.append(Labelled(item.path, item.sheet, dict(zip(headers, values[1:] + values[:1], strict=True))))
    assert evaluate(shifted).accuracy < 0.5


def test_the_generated_set_cases_names_as_different_systems_do(corpus):
    """FEBRL writes names in lower case and council systems in UPPER CASE: the generated set
    holds both, so a rule that only knows Title Case fails the accuracy test above."""
    seen = set()
    for item in corpus:
        if item.sheet not in (None, "Export"):
            continue
        table = next(read_tables(item.path))
        for header, column in zip(table.headers, table.columns, strict=True):
            if item.labels.get(header, (None,))[0] in {"first_name", "last_name", "full_name"}:
                text = "".join(v for v in column if v)
                seen.add("lower" if text.islower() else "upper" if text.isupper() else "mixed")
    assert {"lower", "upper", "mixed"} <= seen
