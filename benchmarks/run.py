"""riskkit benchmarks: every figure is a ratio to a baseline measured in the same run.

    python benchmarks/run.py [--records 1000000] [--skip-briefing]

Writes a table to stdout and to benchmarks/results.md. Never used as a timed test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RISKKIT_PSEUDONYM_KEY", "benchmark")

FIRST = ["John", "Jon", "Sarah", "Sara", "Mohammed", "Aisha", "Peter", "Emma", "Liam", "Olivia", "Noah", "Amelia",
         "Jack", "Isla", "Harry", "Ava", "George", "Mia", "Oscar", "Grace", "Stephen", "Steven", "Claire", "Clare"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan", "Evans",
        "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall"]
ROLES = ["Victim", "Alleged perpetrator", "Witness", "Reporting person"]


def synthetic_records(n: int, seed: int = 1) -> pd.DataFrame:
    """n subject records over Hertfordshire's towns, vectorised (no Faker: speed, not realism)."""
    from riskkit import districts

    rng = np.random.default_rng(seed)
    towns = districts.towns()
    towns = towns[towns.lad_code.str.startswith("E07") & ~towns.lad_code.isin(["E07000008", "E07000009", "E07000010",
                                                                               "E07000011", "E07000012"])]
    t = rng.integers(0, len(towns), n)
    lat = towns.lat.to_numpy()[t] + rng.normal(0, 0.012, n)
    lon = towns.lon.to_numpy()[t] + rng.normal(0, 0.018, n)
    outward = np.array([o.split()[0] for o in towns.outward_codes])[t]
    inward = (rng.integers(1, 10, n).astype(str).astype(object) + np.array(list("ABDEFGHJLNPQRSTUWXYZ"))[rng.integers(0, 20, n)]
              + np.array(list("ABDEFGHJLNPQRSTUWXYZ"))[rng.integers(0, 20, n)])
    dob = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 365 * 70, n), unit="D")
    names = np.array(FIRST)[rng.integers(0, len(FIRST), n)].astype(object) + " " + \
        np.array(LAST)[rng.integers(0, len(LAST), n)] + np.char.mod("%d", rng.integers(0, 400, n)).astype(object)
    return pd.DataFrame({
        "Case": np.char.mod("C%07d", rng.integers(0, max(1, n // 2.4), n)), "Role": np.array(ROLES)[rng.integers(0, 4, n)],
        "Name": names, "DOB": dob.strftime("%d/%m/%Y"), "Address": "1 High Street", "Postcode": outward + " " + inward,
        "Latitude": lat.round(6), "Longitude": lon.round(6),
    })


def timed(fn, repeat: int = 1):
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_analysis(n: int) -> list[tuple[str, float, float, str]]:
    from riskkit import geography, people, risk
    from riskkit.incident import load_incident
    from riskkit.ingest import canonicalise

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "extract.csv"
        synthetic_records(n).to_csv(csv, index=False)
        floor, raw = timed(lambda: pd.read_csv(csv, engine="pyarrow", dtype=str), repeat=2)
        incident = Path(tmp) / "incident.yml"
        incident.write_text((ROOT / "tests" / "benchmark_incident.yml").read_text())
        inc = load_incident(incident)
        cols = inc.files[0].columns
        mapped = pd.DataFrame({c: raw[src] for c, src in cols.items()})
        from riskkit.incident import CANONICAL_FIELDS

        for c in CANONICAL_FIELDS:
            if c not in mapped:
                mapped[c] = pd.NA
        mapped["source_file"], mapped["source_row"] = "extract.csv", np.arange(2, len(mapped) + 2)
        records, _, _ = canonicalise(mapped, inc)
        records.insert(0, "record_id", range(len(records)))
        geo = geography.load_boundaries(None)
        herts = geo.boundaries[geo.boundaries.county == "Hertfordshire"]
        geo = geography.Geography(herts.reset_index(drop=True), True, "schematic")

        def assign_and_resolve():
            a = geography.assign(records, geo)
            records["district_code"] = a.district_code
            records["person_id"] = people.resolve(records)
            return a

        t_assign, _ = timed(assign_and_resolve)
        model = risk.load_model()
        t_score, scored = timed(lambda: risk.score(records, inc, model))
        rows.append((f"district assignment + person resolution, {n:,} records (issue 3, goal ≤ 2x)", t_assign, floor,
                     f"{records['person_id'].nunique():,} people"))
        rows.append((f"risk scoring, {n:,} records (issue 4, goal ≤ 1x)", t_score, floor, f"{len(scored):,} people scored"))
    return rows


def bench_briefing() -> list[tuple[str, float, float, str]]:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    from riskkit.run import assess

    asb = ROOT / "data" / "sample" / "asb_publication" / "incident.yml"
    with tempfile.TemporaryDirectory() as tmp:
        floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "import pandas, geopandas, matplotlib, riskkit.briefing, riskkit.analysis, riskkit.restricted")])
        floor_nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        src = Path(tmp) / "floor.ipynb"
        nbformat.write(floor_nb, src)

        def floor_run():
            pm.execute_notebook(str(src), str(Path(tmp) / "floor-out.ipynb"), progress_bar=False, kernel_name="python3")
            HTMLExporter(template_name="basic", exclude_input=True).from_filename(str(Path(tmp) / "floor-out.ipynb"))

        t_floor, _ = timed(floor_run, repeat=2)
        t_brief, _ = timed(lambda: assess(asb, Path(tmp) / "out", progress=False), repeat=2)
    return [("sample briefing end to end (issue 5, goal ≤ 1.5x)", t_brief, t_floor,
             "floor: papermill run of an imports-only notebook + HTML export")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--skip-briefing", action="store_true")
    args = parser.parse_args()
    rows = bench_analysis(args.records)
    if not args.skip_briefing:
        rows += bench_briefing()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = ["| benchmark | time (s) | baseline (s) | ratio | note |", "|---|---:|---:|---:|---|"]
    for name, t, base, note in rows:
        lines.append(f"| {name} | {t:.2f} | {base:.2f} | {t / base:.2f}x | {note} |")
    header = (f"# riskkit benchmarks\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, {platform.platform()}. Baseline for the analysis rows: pandas "
              f"`read_csv(engine='pyarrow')` of the same CSV, measured in the same run (best of 2). Peak RSS "
              f"{peak_mb:,.0f} MB. Generated by `python benchmarks/run.py --records {args.records}`.\n\n")
    text = header + "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / "results.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
