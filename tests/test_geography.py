"""District names, coordinates, postcodes, precedence, conflicts and the real ONS boundaries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from riskkit import districts, geography
from riskkit.download import download_boundaries
from riskkit.errors import GeographyError
from tests.conftest import ASB, SHARED_GEO


@pytest.mark.parametrize("typed,code", [
    ("Dacorum", "E07000096"), ("DACORUM BC", "E07000096"), ("Dacorum Borough Council", "E07000096"),
    ("St Albans", "E07000240"), ("St. Albans City & District Council", "E07000240"),
    ("Saint Albans City and District", "E07000240"), ("st albans dc", "E07000240"),
    ("Welwyn Hatfield District Council", "E07000241"), ("welwyn-hatfield", "E07000241"),
    ("Three Rivers DC", "E07000102"), ("Watford BC", "E07000103"), ("East Herts", "E07000242"),
    ("Cambridge City Council", "E07000008"), ("Central Bedfordshire Council", "E06000056"),
    ("e07000096", "E07000096"), ("Peterborough City Council", "E06000031"),
])
def test_district_name_variants(typed, code):
    assert districts.code_for(typed) == code


@pytest.mark.parametrize("typed", ["Atlantis", "Herts", "Bedfordshire", "", "Dacorum North"])
def test_unknown_names_are_not_guessed(typed):
    assert districts.code_for(typed) is None


def _records(**cols):
    n = len(next(iter(cols.values())))
    base = {c: [None] * n for c in ("lon", "lat", "easting", "northing", "postcode", "district")}
    base.update(cols)
    df = pd.DataFrame(base)
    for c in ("lon", "lat", "easting", "northing"):
        df[c] = df[c].astype(float)
    df["postcode"] = df["postcode"].astype("string")
    df["record_id"] = range(n)
    df["source_file"], df["source_row"] = "x.csv", range(2, n + 2)
    return df


def _centre(code, crs="EPSG:4326"):
    poly = geography.schematic_boundaries().set_index("lad_code").loc[code, "geometry"]
    pt = gpd.GeoSeries([poly.representative_point()], crs=geography.BNG).to_crs(crs).iloc[0]
    return pt.x, pt.y


def test_wgs84_and_bng_coordinates_agree():
    geo = geography.load_boundaries(None)
    lon, lat = _centre("E07000096")
    e, n = _centre("E07000102", geography.BNG)
    a = geography.assign(_records(lon=[lon, None], lat=[lat, None], easting=[None, e], northing=[None, n]), geo)
    assert list(a.district_code) == ["E07000096", "E07000102"]
    assert list(a.method) == ["coordinates", "coordinates"]


def test_precedence_and_conflicts_are_recorded():
    geo = geography.load_boundaries(None)
    lon, lat = _centre("E07000102")  # Three Rivers
    lookup = pd.Series({"WD3 1AB": "E07000103"}, dtype="string")
    recs = _records(lon=[lon, None, None, None], lat=[lat, None, None, None],
                    postcode=["WD3 1AB", "WD3 1AB", None, None], district=["Watford", "Watford BC", "Dacorum", "Nowhere"])
    a = geography.assign(recs, geo, lookup)
    assert list(a.district_code) == ["E07000102", "E07000103", "E07000096", "unassigned"]
    assert list(a.method) == ["coordinates", "postcode", "district_name", "none"]
    kept = a.conflicts[a.conflicts.record_id == 0]
    assert set(kept.other_method) == {"postcode", "district_name"} and set(kept.kept) == {"E07000102"}
    assert a.summary["conflicts"] == 1 and a.summary["unknown_district_names"] == 1 and a.summary["unassigned"] == 1


def test_nearest_polygon_fallback_within_tolerance():
    geo = geography.load_boundaries(None)
    hull = shapely.unary_union(geo.boundaries.geometry.values)
    minx, miny, maxx, maxy = hull.bounds
    # a point 100 m beyond the western edge is placed; one 5 km beyond is not
    edge = shapely.Point(minx, (miny + maxy) / 2)
    near = shapely.ops.nearest_points(hull.boundary, edge)[0]
    pts = gpd.GeoSeries([shapely.Point(near.x - 100, near.y), shapely.Point(near.x - 5000, near.y)], crs=geography.BNG)
    a = geography.assign(_records(easting=list(pts.x), northing=list(pts.y)), geo)
    assert a.district_code.iloc[0] != "unassigned" and a.district_code.iloc[1] == "unassigned"
    assert a.summary["nearest_polygon"] == 1


def test_sample_coordinates_fall_inside_their_sample_district():
    from riskkit.incident import load_incident
    from riskkit.ingest import ingest

    recs = ingest(load_incident(ASB)).records
    recs = recs[recs.lat.notna()]
    geo = geography.load_boundaries(ASB.parent.parent / "boundaries" / "schematic_lad.geojson")
    a = geography.assign(recs.assign(district=None), geo)
    town_codes = recs["town"].map(districts.towns().drop_duplicates("town").set_index("town")["lad_code"])
    assert (a.district_code.values == town_codes.values).all()


def test_boundary_file_errors(tmp_path):
    with pytest.raises(GeographyError, match="not found"):
        geography.load_boundaries(tmp_path / "none.geojson")
    path = tmp_path / "b.geojson"
    geography.schematic_boundaries().to_file(path)
    with pytest.raises(GeographyError, match="LAD23CD"):
        geography.load_boundaries(path, code_column="LAD23CD")


def test_self_intersecting_boundary_is_repaired(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    gdf = gpd.GeoDataFrame({"code": ["E07000096"]}, geometry=[bowtie], crs=geography.BNG)
    gdf.to_file(tmp_path / "b.gpkg")
    geo = geography.load_boundaries(tmp_path / "b.gpkg", code_column="code")
    assert geo.boundaries.geometry.is_valid.all()
    a = geography.assign(_records(easting=[8.0], northing=[5.0]), geo)
    assert a.district_code.iloc[0] == "E07000096"


@pytest.mark.skipif(not SHARED_GEO.exists(), reason="../shared/geo is not present")
def test_real_ons_boundaries_place_representative_points():
    points = pd.read_csv(SHARED_GEO / "lad_centroids.csv")
    geo = geography.load_boundaries(SHARED_GEO / "lad_herts_beds_cambs.geojson", "lad_code", "lad_name")
    a = geography.assign(_records(lon=list(points.lon), lat=list(points.lat)), geo)
    assert list(a.district_code) == list(points.lad_code)
    assert a.summary["nearest_polygon"] == 0


@pytest.mark.skipif(not SHARED_GEO.exists(), reason="../shared/geo is not present")
def test_real_ons_boundaries_in_british_national_grid(tmp_path):
    geo = gpd.read_file(SHARED_GEO / "lad_herts_beds_cambs.geojson").to_crs(geography.BNG)
    geo.to_file(tmp_path / "bng.gpkg")
    points = pd.read_csv(SHARED_GEO / "lad_centroids.csv")
    loaded = geography.load_boundaries(tmp_path / "bng.gpkg", "lad_code", "lad_name")
    bng = gpd.GeoSeries(gpd.points_from_xy(points.lon, points.lat), crs=4326).to_crs(geography.BNG)
    a = geography.assign(_records(easting=list(bng.x), northing=list(bng.y)), loaded)
    assert list(a.district_code) == list(points.lad_code)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"LAD23CD": "E07000096", "LAD23NM": "Dacorum"},
             "geometry": {"type": "Polygon", "coordinates": [[[-0.6, 51.7], [-0.4, 51.7], [-0.4, 51.8], [-0.6, 51.7]]]}}]})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_boundaries_download_against_local_server(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/query"
    try:
        assert download_boundaries(["E07000096"], tmp_path / "b.geojson", url) == 1
        geo = geography.load_boundaries(tmp_path / "b.geojson", "LAD23CD", "LAD23NM")
        assert list(geo.boundaries.lad_code) == ["E07000096"]
        with pytest.raises(GeographyError, match="no boundary for E07000103"):
            download_boundaries(["E07000096", "E07000103"], tmp_path / "c.geojson", url)
        with pytest.raises(GeographyError, match="not ONS district codes"):
            download_boundaries(["Dacorum"], tmp_path / "c.geojson", url)
    finally:
        server.shutdown()
    with pytest.raises(GeographyError, match="cannot download"):
        download_boundaries(["E07000096"], tmp_path / "d.geojson", url, timeout=2)
