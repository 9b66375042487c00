"""Placing each subject record and each case in a district.

Order of precedence, most precise first: coordinates (spatial join against boundaries),
postcode (lookup table in the ONS postcode directory layout), the extract's own district name.
Disagreements are kept as data-quality findings; records nothing can place are ``unassigned``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from riskkit import districts, groups, normalise
from riskkit.errors import GeographyError

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
METHODS = ("coordinates", "postcode", "district_name")
NEAREST_TOLERANCE_M = 250.0
SCHEMATIC_MARGIN_M = 8000.0


@dataclass
class Geography:
    """Boundaries in British National Grid, and whether they are only schematic."""

    boundaries: gpd.GeoDataFrame  # lad_code, district, geometry (EPSG:27700)
    schematic: bool
    source: str


@dataclass
class Assignment:
    """Per-record district and method, with the conflicts and counts for data quality."""

    district_code: pd.Series
    method: pd.Series
    conflicts: pd.DataFrame
    summary: dict = field(default_factory=dict)


@lru_cache(maxsize=1)
def schematic_boundaries() -> gpd.GeoDataFrame:
    """Made-up district shapes for the sample data: Voronoi cells around each district's main
    towns (public coordinates), merged per district and clipped to a margin around all towns.

    They let the sample run and draw a map without shipping ONS files; they are not real
    boundaries, and every map drawn from them says so.
    """
    towns = districts.towns()
    pts = gpd.GeoSeries(gpd.points_from_xy(towns.lon, towns.lat), crs=WGS84).to_crs(BNG)
    hull = shapely.convex_hull(shapely.MultiPoint(list(pts))).buffer(SCHEMATIC_MARGIN_M)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(pts)), extend_to=hull, ordered=True)
    cells = gpd.GeoDataFrame({"lad_code": towns.lad_code}, geometry=list(cells.geoms), crs=BNG)
    cells["geometry"] = cells.geometry.intersection(hull)
    merged = cells.dissolve(by="lad_code", as_index=False)
    merged["geometry"] = shapely.set_precision(merged.geometry.values, 1.0)
    merged["district"] = districts.name_of(merged["lad_code"])
    ref = districts.reference().set_index("lad_code")
    merged["county"] = merged["lad_code"].map(ref["county"])
    return merged[["lad_code", "district", "county", "geometry"]]


def load_boundaries(path: Path | None, code_column: str = "lad_code", name_column: str | None = None,
                    schematic: bool = False) -> Geography:
    """Official ONS boundary files in any format GDAL reads and any CRS; schematic when none."""
    if path is None:
        return Geography(schematic_boundaries(), True, "schematic (built in)")
    if not Path(path).exists():
        raise GeographyError(f"{path}: boundary file not found; fix 'boundaries.path' in the incident "
                             "file or omit it to use the schematic sample boundaries.")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError and others
        raise GeographyError(f"{path}: cannot be read as a boundary file ({type(exc).__name__}); "
                             "use GeoJSON, GeoPackage or a Shapefile.") from None
    if code_column not in gdf.columns:
        raise GeographyError(f"{path}: no column '{code_column}' (columns: {', '.join(map(str, gdf.columns))}); "
                             "set 'boundaries.code_column' (for ONS files e.g. LAD23CD).")
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        gdf = gdf.set_crs(WGS84 if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90 else BNG)
    gdf = gdf.to_crs(BNG)
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].values)
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    out = gpd.GeoDataFrame({"lad_code": gdf[code_column].astype(str).str.strip()}, geometry=gdf.geometry.values, crs=BNG)
    names = gdf[name_column] if name_column and name_column in gdf.columns else None
    out["district"] = names.astype(str).values if names is not None else districts.name_of(out["lad_code"]).values
    out = out.dissolve(by="lad_code", as_index=False, aggfunc="first")
    ref = districts.reference().set_index("lad_code")
    out["county"] = out["lad_code"].map(ref["county"])
    return Geography(out[["lad_code", "district", "county", "geometry"]], schematic, str(path))


def to_bng(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing for every record with usable coordinates (NaN elsewhere).

    WGS84 longitude/latitude wins over easting/northing when a record has both.
    """
    x = records["easting"].to_numpy(dtype=float, na_value=np.nan).copy()
    y = records["northing"].to_numpy(dtype=float, na_value=np.nan).copy()
    lon = records["lon"].to_numpy(dtype=float, na_value=np.nan)
    lat = records["lat"].to_numpy(dtype=float, na_value=np.nan)
    has_ll = ~np.isnan(lon) & ~np.isnan(lat)
    if has_ll.any():
        tx, ty = _to_bng().transform(lon[has_ll], lat[has_ll])
        x[has_ll], y[has_ll] = tx, ty
    return x, y


@lru_cache(maxsize=1)
def _to_bng() -> Transformer:
    return Transformer.from_crs(WGS84, BNG, always_xy=True)


def by_coordinates(records: pd.DataFrame, geo: Geography,
                   tolerance_m: float = NEAREST_TOLERANCE_M) -> tuple[pd.Series, pd.Series]:
    """Vectorised point-in-polygon, then the nearest polygon within ``tolerance_m`` for points
    just outside every polygon (tidal rivers are gaps in ONS clipped boundaries).

    Returns (codes, nearest) where nearest marks records placed by the fallback.
    """
    x, y = to_bng(records)
    ok = ~np.isnan(x) & ~np.isnan(y)
    codes = pd.Series(pd.NA, index=records.index, dtype="string")
    nearest = pd.Series(False, index=records.index)
    if not ok.any():
        return codes, nearest
    found = _within(x, y, ok, geo.boundaries)
    polygon_codes = geo.boundaries["lad_code"].astype("string").reset_index(drop=True)
    codes[:] = polygon_codes.array.take(found, allow_fill=True)
    outside = np.flatnonzero(ok & (found < 0))
    if len(outside):
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x[outside], y[outside]), index=outside, crs=BNG)
        near = gpd.sjoin_nearest(pts, geo.boundaries[["lad_code", "geometry"]], how="inner", max_distance=tolerance_m)
        near = near[~near.index.duplicated(keep="first")]
        codes.iloc[near.index.to_numpy()] = near["lad_code"].astype("string").to_numpy()
        nearest.iloc[near.index.to_numpy()] = True
    return codes, nearest


def _within(x: np.ndarray, y: np.ndarray, ok: np.ndarray, boundaries: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the polygon each point lies strictly inside (-1 for none; the first polygon
    when broken boundaries overlap). Districts are few: per polygon, a bounding-box filter and
    one prepared point-in-polygon call over the points that pass it, with no point objects."""
    found = np.full(len(x), -1, dtype=np.int64)
    for k, geom in enumerate(boundaries.geometry.values):
        minx, miny, maxx, maxy = geom.bounds
        candidates = np.flatnonzero(ok & (found < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if len(candidates):
            shapely.prepare(geom)
            found[candidates[shapely.contains_xy(geom, x[candidates], y[candidates])]] = k
    return found


def load_postcode_lookup(path: Path, postcode_column: str = "pcds", code_column: str = "lad") -> pd.Series:
    """An ONS postcode directory (or any table with the same two columns) as postcode -> code."""
    if not Path(path).is_file():
        raise GeographyError(f"{path}: postcode lookup not found; fix 'postcode_lookup.path' in the incident file.")
    try:
        table = pd.read_csv(path, usecols=[postcode_column, code_column], dtype=str)
    except ValueError:
        raise GeographyError(f"{path}: needs columns '{postcode_column}' and '{code_column}'; set "
                             "'postcode_lookup.postcode_column' and 'code_column'.") from None
    pcs, _ = normalise.postcode(table[postcode_column])
    lookup = pd.Series(table[code_column].str.strip().values, index=pcs.values, dtype="string")
    return lookup[lookup.index.notna() & ~lookup.index.duplicated()]


def assign(records: pd.DataFrame, geo: Geography, postcode_lookup: pd.Series | None = None,
           tolerance_m: float = NEAREST_TOLERANCE_M) -> Assignment:
    """District per subject record by precedence, recording the method and every conflict."""
    by_xy, nearest = by_coordinates(records, geo, tolerance_m)
    if postcode_lookup is not None:
        by_pc = records["postcode"].map(postcode_lookup).astype("string")
    else:
        by_pc = pd.Series(pd.NA, index=records.index, dtype="string")
    by_name, unknown_name = districts.codes_for(records["district"])
    answers = pd.DataFrame({"coordinates": by_xy, "postcode": by_pc, "district_name": by_name})

    code = answers["coordinates"].fillna(answers["postcode"]).fillna(answers["district_name"])
    # The method per record as an integer (the first present answer in precedence order), not
    # a string Series masked three times over.
    present = {m: answers[m].notna().to_numpy(dtype=bool) for m in METHODS}
    which = np.select([present[m] for m in METHODS], list(range(len(METHODS))), len(METHODS))
    method = pd.Series(pd.Categorical.from_codes(which, categories=[*METHODS, "none"]), index=records.index)

    conflict_rows = []
    for i, hi in enumerate(METHODS):
        for lo in METHODS[i + 1:]:
            both = present[hi] & present[lo]
            if not both.any():
                continue
            at = np.flatnonzero(both)
            at = at[(answers[hi].iloc[at] != answers[lo].iloc[at]).to_numpy(dtype=bool)]
            if len(at):
                conflict_rows.append(pd.DataFrame({
                    "record_id": records["record_id"].iloc[at].values,
                    "source_file": records["source_file"].iloc[at].values,
                    "source_row": records["source_row"].iloc[at].values,
                    "kept_method": hi, "kept": answers[hi].iloc[at].values,
                    "other_method": lo, "other": answers[lo].iloc[at].values,
                }))
    conflicts = pd.concat(conflict_rows, ignore_index=True) if conflict_rows else pd.DataFrame(
        columns=["record_id", "source_file", "source_row", "kept_method", "kept", "other_method", "other"])
    counts = np.bincount(which, minlength=len(METHODS) + 1)
    summary = {
        "by_method": {m: int(counts[k]) for k, m in enumerate(METHODS)},
        "nearest_polygon": int(nearest.sum()),
        "conflicts": int(conflicts["record_id"].nunique()) if len(conflicts) else 0,
        "unknown_district_names": int(unknown_name.sum()),
        "unassigned": int(code.isna().sum()),
    }
    return Assignment(code.fillna(districts.UNASSIGNED).astype("string"), method.astype("string"), conflicts, summary)


def mode_per_group(codes: pd.Series, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Most common non-missing code per group 0..n_groups-1 (None where a group has none), ties
    to the lowest code, so the answer never depends on row order: one sort of the distinct
    (group, code) pairs, no strings compared. Most groups (a person, a case) hold one code only:
    their answer is that code, and only the groups with several are sorted."""
    c, c_values = pd.factorize(codes, sort=True, use_na_sentinel=True)  # sorted: lower index = lower code
    best = np.full(n_groups, None, dtype=object)
    ok = (group >= 0) & (c >= 0)
    if not ok.any():
        return best
    g, c = group[ok].astype(np.intp), c[ok].astype(np.int64)
    values = np.asarray(c_values, dtype=object)
    low = np.full(n_groups, len(c_values), dtype=np.int64)
    high = np.full(n_groups, -1, dtype=np.int64)
    np.minimum.at(low, g, c)
    np.maximum.at(high, g, c)
    single = low == high
    best[single] = values[low[single]]
    mixed = (high >= 0) & ~single
    if not mixed.any():
        return best
    keep = mixed[g]
    g, c = g[keep], c[keep]
    width = np.int64(len(c_values))
    pair, count = np.unique(g.astype(np.int64) * width + c, return_counts=True)
    gg, cc = pair // width, pair % width
    order = np.lexsort((cc, -count, gg))
    first = order[np.r_[True, gg[order][1:] != gg[order][:-1]]]
    best[gg[first]] = values[cc[first]]
    return best


def case_districts(records: pd.DataFrame, record_codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """One district per case: the incident location when the extract has one, else where the
    complainant or victim lives, else where most of its subjects live.

    Several candidates at one level resolve to the most common, ties to the lowest code, so
    the answer never depends on the order of rows in the extract.
    Returns (district code per case_ref, rule used per case_ref).
    """
    case, cases = groups.sorted_codes(records["case_ref"])
    location, _ = districts.codes_for(records["case_district"])
    placed = record_codes.where(record_codes != districts.UNASSIGNED)

    def mode(codes: pd.Series) -> pd.Series:
        return pd.Series(mode_per_group(codes, case, len(cases)), index=cases, dtype="string")

    by_location = mode(location)
    by_victim = mode(placed.where(records["role"] == "victim"))
    by_subjects = mode(placed)
    result = by_location.fillna(by_victim).fillna(by_subjects)
    rule = pd.Series("subjects' homes", index=cases, dtype="string")
    rule = rule.mask(by_victim.notna() & by_location.isna(), "complainant or victim")
    rule = rule.mask(by_location.notna(), "incident location")
    rule = rule.mask(result.isna(), "unassigned")
    return result.fillna(districts.UNASSIGNED).astype("string"), rule


def home_districts(person_codes: np.ndarray, n_people: int, record_codes: pd.Series) -> np.ndarray:
    """Where each person lives: the district most of their records place them in (None when
    none of their records is placed)."""
    placed = record_codes.where(record_codes != districts.UNASSIGNED)
    return mode_per_group(placed, person_codes, n_people)
