"""Every reference case agrees with its published outcome (issue 14).

ENISA's examples publish a DPC and a severity band; EDPB 01/2021's cases and the real incidents
publish whether the regulator was notified and the people told. The agreement table in
docs/methodology.md is these cases' results.
"""

from __future__ import annotations

import pytest

from tests.calibration.build import assess
from tests.calibration.cases import EDPB_CASES, ENISA_CASES, PSNI, Case


def _run(case: Case, tmp_path):
    return assess(case, tmp_path)


@pytest.mark.parametrize("case", ENISA_CASES, ids=[c.id for c in ENISA_CASES])
def test_enisa_example(case: Case, tmp_path):
    got = _run(case, tmp_path)
    assert (got.dpc, got.severity_band) == (case.dpc, case.severity_band)


@pytest.mark.parametrize("case", [*EDPB_CASES, PSNI], ids=[c.id for c in [*EDPB_CASES, PSNI]])
def test_published_outcome(case: Case, tmp_path):
    got = _run(case, tmp_path)
    assert got.people == len(case.rows)  # each invented row is a different person: the case's scale holds
    assert (got.notify, got.tell) == (case.notify, case.tell)


def test_psni_like_tells_everyone(tmp_path):
    got = _run(PSNI, tmp_path)
    assert got.required == got.people


def test_asb_sample_notifies_and_tells_everyone(asb_analysis):
    d, p = asb_analysis.decisions, asb_analysis.people
    assert d.notify
    assert d.required + d.recommended == len(p) == 130
    assert set(p["tell"].astype(str)) <= {"required", "recommended"} and p["channel"].notna().all()
    assert set(d.channels) <= {"in_person", "phone", "letter"} and d.channels.get("in_person", 0) > 0


def test_staff_sample_notifies_and_recommends_telling_all_staff(staff_analysis):
    d, p = staff_analysis.decisions, staff_analysis.people
    assert d.notify and "covert or sensitive role" in d.reason
    assert d.required == 0 and d.recommended == len(p) == 1020
    assert d.channels == {"letter": 1020} and "employees" in d.communicate_reason
