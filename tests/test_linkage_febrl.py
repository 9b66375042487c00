"""Person resolution against known truth: the FEBRL datasets (tests/data/febrl, see its README).

The mapping is the one an incident.yml gives (benchmarks/linkage.py writes it); nothing in
riskkit's code or model knows about FEBRL.
"""

from __future__ import annotations

import pytest

from benchmarks.linkage import febrl_records, febrl_truth, read_febrl, scores
from riskkit import people


@pytest.fixture(scope="module")
def febrl3():
    raw = read_febrl(3)
    return febrl_records(raw), febrl_truth(raw)


def test_febrl3_precision_and_recall(febrl3):
    records, truth = febrl3
    result = scores(people.resolve(records, key=b"k").to_numpy(), truth)
    assert result["precision"] >= 0.995 and result["recall"] >= 0.99, result


def test_febrl3_range_brackets_the_estimate_and_the_truth_is_near(febrl3):
    records, truth = febrl3
    res = people.link(records, key=b"k")
    best = res.person_id.nunique()
    assert res.people_range["min"] <= best <= res.people_range["max"]
    assert abs(best - len(set(truth.tolist()))) / len(set(truth.tolist())) < 0.02


def test_scores_are_pairwise():
    import numpy as np

    found, truth = np.array(["a", "a", "b", "c"]), np.array(["x", "x", "x", "y"])
    s = scores(found, truth)
    assert s["precision"] == 1.0 and s["recall"] == pytest.approx(1 / 3) and s["people"] == 3 and s["true_people"] == 2


def test_threads_change_nothing(febrl3, monkeypatch):
    """Large resolutions spread their work over threads (fields, blocking passes, comparisons);
    forced on for FEBRL 3's 5,000 records, the people, range and evidence are exactly those of
    the same work on one thread."""
    from riskkit.people import threads

    records, _ = febrl3
    monkeypatch.setattr(threads, "PARALLEL_FROM", 10**12)
    alone = people.link(records, key=b"k")
    monkeypatch.setattr(threads, "PARALLEL_FROM", 0)
    shared = people.link(records, key=b"k")
    assert alone.person_id.equals(shared.person_id)
    assert alone.people_range == shared.people_range
    assert alone.links.equals(shared.links)
    assert len(alone.links) > 1000
