"""The committed notebooks: no stray outputs, documented parameters, clear parameter errors."""

from __future__ import annotations

import json

import papermill as pm
import pytest

from riskkit.errors import ParameterError
from riskkit.parameters import check_names, validate
from tests.conftest import ASB, ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_except_nbval_cells(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell.get("outputs"):
            assert "nbval-check-output" in cell["metadata"].get("tags", []), cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_are_documented(path):
    params = pm.inspect_notebook(str(path))
    assert "incident" in params
    for name, p in params.items():
        assert p["help"], f"{name} has no help text"
        assert p["inferred_type_name"] == "str"


def test_parameter_validation():
    ok = validate(str(ASB), "", "", "2026-10-10T09:00:00+01:00")
    assert ok.output_dir is None and ok.now.utcoffset() is not None
    with pytest.raises(ParameterError, match="'incident'"):
        validate("nope.yml")
    with pytest.raises(ParameterError, match="must be a string"):
        validate(str(ASB), output_dir=3)
    with pytest.raises(ParameterError, match="time zone"):
        validate(str(ASB), now="2026-10-10T09:00:00")
    with pytest.raises(ParameterError, match="unknown notebook parameter"):
        check_names({"incident": "x", "names_of_people": "y"}, {"incident"})
