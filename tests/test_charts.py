"""The briefing's map and band chart: classes from zero, labels that never collide, and no
figure where it would show nothing. Geometry facts (text boxes after drawing, colours as
drawn), not pixels."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import UTC, datetime

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from riskkit.analysis import analyse, scope
from riskkit.report import briefing, charts
from riskkit.risk import BANDS
from tests.conftest import ASB, SHARED_GEO

ONS = SHARED_GEO / "lad_herts_beds_cambs.geojson"


@pytest.fixture(scope="module")
def asb_real():
    if not ONS.exists():
        pytest.skip("../shared/geo is not present")
    return analyse(ASB, boundaries=ONS, now=datetime(2026, 10, 10, 8, 0, tzinfo=UTC))


def _banded(a, bands: list[str]):
    """The analysis with its people's bands replaced (a hand-built spread of bands)."""
    people = a.people.copy()
    ranks = np.resize([BANDS.index(b) for b in bands], len(people))
    people["band_rank"] = ranks
    people["band"] = pd.Categorical.from_codes(ranks, categories=BANDS, ordered=True)
    return replace(a, people=people)


def _png_bytes(html: str) -> bytes:
    return base64.b64decode(re.search(r'base64,([^"]+)"', html).group(1))


# ----------------------------------------------------------------------------- classes

@pytest.mark.parametrize("values", [[0, 0], [1], [0, 3, 0], [4, 5, 5, 6, 6, 6, 6, 7, 8, 9], list(range(39, 84)),
                                    [1, 2, 1000, 25_000], [7] * 12, [0, 1, 1, 1, 2, 120]])
def test_classes_start_at_zero_are_contiguous_round_and_cover_the_max(values):
    c = charts.class_breaks(values)
    assert c.lows[0] == c.highs[0] == 0 and c.colours[0] == charts.ZERO_COLOUR
    assert c.highs[-1] >= max(values)
    assert all(lo == prev + 1 for lo, prev in zip(c.lows[1:], c.highs[:-1], strict=True))
    assert all(lo <= hi for lo, hi in zip(c.lows, c.highs, strict=True))
    assert len(c.highs) <= charts.MAX_CLASSES + 1
    for hi in c.highs[1:]:  # round: 1, 2, 3, 4, 5, 6 or 8 times a power of ten
        assert int(str(hi).rstrip("0") or 0) in charts._ROUND
    for v in values:
        k = c.index(v)
        assert (k == 0) == (v == 0) and c.lows[k] <= v <= c.highs[k]
        assert v == 0 or c.colours[k] not in ("#ffffff", charts.OUTSIDE_COLOUR)
    assert len(set(c.colours)) == len(c.colours) and len(c.labels) == len(c.highs)


def test_classes_separate_the_sample_districts_and_label_ranges():
    c = charts.class_breaks([4, 5, 5, 6, 6, 6, 6, 7, 8, 9])
    assert c.labels[0] == "0" and len(c.highs) >= 3  # more than one shade for 4..9
    assert c.index(4) != c.index(9)
    with pytest.raises(ValueError, match="above the top class"):
        c.index(c.highs[-1] + 1)


# ----------------------------------------------------------------------------- label placement

def test_spread_separates_a_pile_of_markers_inside_bounds():
    pile = np.array([[100.0, 100.0]] * 8 + [[102.0, 99.0], [300.0, 300.0]])
    out = charts.spread(pile, 20.0, (0, 0, 400, 400))
    for i in range(len(out)):
        for j in range(i + 1, len(out)):
            assert max(abs(out[i] - out[j])) >= 20.0
    assert (out >= 10).all() and (out <= 390).all()
    assert np.allclose(out[-1], [300.0, 300.0])  # a marker with room is left where it is


# ----------------------------------------------------------------------------- map

def _check_map(a, d: charts.MapDrawing):
    table = a.districts.set_index("lad_code")
    names = a.geo.boundaries.set_index("lad_code")["district"]
    assert [k[1] for k in d.key] == [names[c] for c in d.codes]  # key entries are the districts shown
    assert [k[0] for k in d.key] == list(range(1, len(d.codes) + 1))
    assert [m.get_text() for m in d.markers] == [str(k[0]) for k in d.key]  # one number per district
    assert [k[2] for k in d.key] == [int(table[d.measure].get(c, 0)) for c in d.codes]
    with_cases = set(table.index[table[d.measure] > 0]) - {"unassigned"}
    assert with_cases <= set(d.codes)
    for code, value, colour in zip(d.codes, d.values, d.colours, strict=True):
        assert colour == d.classes.colours[d.classes.index(value)]
        if value > 0:
            assert colour != "#ffffff" and colour != charts.OUTSIDE_COLOUR, code
    drawn = {to_hex(fc) for fc in d.area.get_facecolors()}
    assert drawn == set(d.colours)  # the fills on the map are the class colours, and white only for 0
    assert d.legend_labels[: len(d.classes.labels)] == d.classes.labels
    d.fig.canvas.draw()
    assert charts.overlapping(d.markers) == []
    assert charts.overlapping(d.key_texts) == []
    fb = d.fig.bbox
    for box in charts.text_boxes([d.fig._suptitle, *d.key_texts, *d.fig.legends[0].get_texts()]):
        assert 0 <= box[0] and box[2] <= fb.x1 and 0 <= box[1] and box[3] <= fb.y1  # nothing cut off
    axes_box = d.markers[0].axes.get_window_extent()
    assert charts.text_boxes([d.fig._suptitle])[0][1] >= axes_box.y1 - 1  # the title sits above the map
    for box in charts.text_boxes(d.markers):
        assert axes_box.x0 - 1 <= box[0] and box[2] <= axes_box.x1 + 1
        assert axes_box.y0 - 1 <= box[1] and box[3] <= axes_box.y1 + 1
    plt.close(d.fig)


def test_asb_map_on_schematic_boundaries(asb_analysis):
    d = charts.map_drawing(asb_analysis)
    assert d is not None and d.measure == "cases"
    _check_map(asb_analysis, d)
    assert "Schematic boundaries" in d.fig._suptitle.get_text() and "schematic" in d.alt.lower()
    assert "not in the area" in d.legend_labels  # the other counties, hatched, apart from 0


def test_asb_map_on_ons_boundaries_and_scoped(asb_real):
    d = charts.map_drawing(asb_real)
    assert d is not None and "chematic" not in d.fig._suptitle.get_text()
    _check_map(asb_real, d)
    one = scope(asb_real, "Watford")
    d = charts.map_drawing(one)
    _check_map(one, d)
    assert "Watford outlined" in d.fig._suptitle.get_text() and "Watford outlined" in d.alt


def test_crowded_districts_get_spread_numbers_with_leader_lines(asb_analysis):
    """Four districts shrunk to 300 m squares side by side: their numbers would sit on top of
    each other, so they are spread apart and joined to their districts by leader lines."""
    import shapely

    geo = asb_analysis.geo.boundaries.copy()
    crowded = ["E07000103", "E07000102", "E07000098", "E07000240"]  # Watford, Three Rivers, Hertsmere, St Albans
    x, y = shapely.get_coordinates(geo.geometry[geo.lad_code == "E07000240"].iloc[0].representative_point())[0]
    for k, code in enumerate(crowded):
        geo.loc[geo.lad_code == code, "geometry"] = shapely.box(x + 300 * k, y, x + 300 * (k + 1), y + 300)
    a = replace(asb_analysis, geo=replace(asb_analysis.geo, boundaries=geo))
    d = charts.map_drawing(a)
    ax = d.markers[0].axes
    anchors = ax.transData.transform([[x + 300 * k + 150, y + 150] for k in range(4)])
    assert np.abs(np.diff(anchors, axis=0)).max() < 10  # without spreading they would overlap
    _check_map(a, d)
    assert len(ax.lines) >= 2 * 3  # a leader line and an anchor dot for (at least) three of the four


def test_a_long_district_name_is_shortened_in_the_key_not_overlapping_its_count(asb_analysis):
    geo = asb_analysis.geo.boundaries.copy()
    long_name = "Dacorum Borough and Extraordinarily Long Official District Name"
    geo.loc[geo.lad_code == "E07000096", "district"] = long_name
    a = replace(asb_analysis, geo=replace(asb_analysis.geo, boundaries=geo))
    d = charts.map_drawing(a)
    _check_map(a, d)  # includes: no two key texts overlap
    shown = next(t for t in d.key_texts if t.get_gid() == long_name)
    assert shown.get_text().endswith("…") and long_name.startswith(shown.get_text()[:-1].rstrip())


def test_cases_with_no_district_are_said_on_the_map(asb_analysis):
    table = asb_analysis.districts.copy()
    table.loc[table.lad_code == "unassigned", "cases"] = 3
    d = charts.map_drawing(replace(asb_analysis, districts=table))
    assert "Not on the map: 3 cases with no district" in d.fig._suptitle.get_text() and "3 cases with no district" in d.alt
    _check_map(replace(asb_analysis, districts=table), d)
    plain = charts.map_drawing(asb_analysis)  # the sample's unassigned row has people but no case
    assert "Not on the map" not in plain.fig._suptitle.get_text()
    plt.close(plain.fig)


def test_map_html_is_small_self_contained_and_names_no_person(asb_analysis):
    html = charts.district_map(asb_analysis)
    assert html.startswith('<img class="rk-figure" alt="Map of cases per district in Hertfordshire: Dacorum 9;')
    png = _png_bytes(html)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 80_000
    names = set(asb_analysis.records["full_name"].dropna()) | set(asb_analysis.records["address"].dropna())
    assert not [n for n in names if n in html]


def test_no_map_when_nobody_is_high_risk(asb_analysis, staff_analysis):
    assert charts.map_drawing(_banded(asb_analysis, ["Low"])) is None  # all Low
    assert charts.district_map(_banded(asb_analysis, ["Low", "Medium"])) == ""
    assert charts.district_map(staff_analysis) == ""  # 1,017 Low and 3 Medium: no map of staff homes
    assert charts.map_drawing(_banded(asb_analysis, ["Low"] * 50 + ["High"])) is not None
    section = briefing.districts_section(staff_analysis).data
    assert "<img" not in section and "schematic boundaries</strong>" not in section


# ----------------------------------------------------------------------------- band chart

@pytest.mark.parametrize(("rows", "shown"), [
    ({"Victim": [0, 0, 0, 40]}, False),  # one band
    ({"Staff": [1017, 3, 0, 0]}, False),  # the smallest band is 0.3% of the bar: invisible
    ({"Victim": [0, 1, 9, 41], "Witness": [0, 1, 18, 5]}, True),
    ({"Victim": [0, 0, 0, 40], "Witness": [0, 0, 5, 0]}, True),  # one band per role, two bands in all
    ({"Victim": [0, 1, 0, 99]}, False),
    ({}, False),
])
def test_band_chart_only_when_it_shows_something(rows, shown):
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(BANDS)) if rows else pd.DataFrame(columns=list(BANDS))
    assert charts.band_chart_shows_something(table) is shown


def test_asb_band_chart_labels_every_segment_without_overlap(asb_analysis):
    d = charts.band_drawing(asb_analysis)
    assert d is not None
    table = charts.role_band_table(asb_analysis)
    counts = sorted(int(v) for v in table.to_numpy().ravel() if v)
    assert sorted(int(t.get_text().replace(",", "")) for t in d.labels) == counts
    d.fig.canvas.draw()
    assert charts.overlapping(d.labels) == []
    fig_box = d.fig.bbox
    ax = d.labels[0].axes
    for box in charts.text_boxes([*d.labels, ax.xaxis.label, *ax.get_yticklabels(), *d.legend.get_texts()]):
        assert 0 <= box[0] and box[2] <= fig_box.x1 and 0 <= box[1] and box[3] <= fig_box.y1  # nothing cut off
    for role, row in table.iterrows():  # the alt text says each role's counts in words
        assert f"{role} " + ", ".join(f"{int(v)} {b}" for b, v in row.items() if v) in d.alt
    plt.close(d.fig)


def test_three_thin_bands_side_by_side_get_labels_that_do_not_overlap(asb_analysis):
    a = _banded(asb_analysis, ["Low", "Medium", "High"] + ["Very high"] * 45)  # about 2% each
    d = charts.band_drawing(a)
    assert d is not None
    d.fig.canvas.draw()
    assert charts.overlapping(d.labels) == []
    table = charts.role_band_table(a)
    assert len(d.labels) == int((table > 0).to_numpy().sum())
    box, fig_box = d.legend.get_window_extent(), d.fig.bbox  # all four bands' legend fits the figure
    assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1 and box.y1 <= fig_box.y1
    assert [t.get_text() for t in d.legend.get_texts()] == list(BANDS)
    plt.close(d.fig)


def test_no_band_chart_for_one_band_or_a_thin_one(asb_analysis, staff_analysis):
    assert charts.band_chart(_banded(asb_analysis, ["Very high"])) == ""
    assert charts.band_chart(staff_analysis) == ""
    text = re.sub(r"<[^>]+>", "", briefing.bands_section(staff_analysis).data)
    assert "3 Medium and 1,017 Low." in text and "<img" not in briefing.bands_section(staff_analysis).data
    assert "<img" in briefing.bands_section(asb_analysis).data
