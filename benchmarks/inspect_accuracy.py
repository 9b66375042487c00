"""Accuracy of ``riskkit inspect`` on the labelled export corpus, and its cost.

    python benchmarks/inspect_accuracy.py [--seeds 16,1,2] [--files 24]     (or python -m benchmarks.inspect_accuracy)
    python benchmarks/inspect_accuracy.py --inventory 1000000               (the briefing inventory's cost only)

Column-level precision (of the columns inspect mapped, how many as labelled) and recall (of
the columns labelled with a field, how many inspect mapped right), for the development header
vocabulary and for a held-out one the rules were not tuned on; and, reported apart, on exports
the project did not generate (FEBRL datasets 1-3 and hand-written files in tests/data/inspect_public,
hand-labelled in benchmarks/inspect_public_labels.yml), where a rule that only knows the
generator's habits shows up; the phone check by
``phonenumbers`` against a hand-written pattern; inspect's time as a ratio to reading the same
tables. Writes its section into benchmarks/results.md (between markers, so ``run.py``'s table
and this section can be regenerated apart).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- inspect:start -->", "<!-- inspect:end -->"
INV_START, INV_END = "<!-- inventory:start -->", "<!-- inventory:end -->"
HAND_PHONE = re.compile(r"^(\+44\s?(\(0\))?\s?|0044\s?|\(?0)\d[\d\s()-]{8,12}$")


def accuracy(seeds: list[int], files: int) -> list[str]:
    from riskkit.inspect.corpus import evaluate, write_corpus

    rows = ["| header wording | seed | files | tables | columns | correct | precision | recall | sure mappings wrong "
            "| personal left unflagged |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    misses: dict[str, int] = {}
    for held_out in (False, True):
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                labelled = write_corpus(Path(tmp), files=files, seed=seed, held_out=held_out)
                s = evaluate(labelled)
            for m in s.mistakes:
                key = ("held-out: " if held_out else "development: ") + m.split("/", 2)[2].split(":")[0].lower() \
                      + " ->" + m.rsplit("got", 1)[1]
                misses[key] = misses.get(key, 0) + 1
            rows.append(f"| {'held out' if held_out else 'development'} | {seed} | {len({i.path for i in labelled})} "
                        f"| {len(labelled)} | {s.columns} | {s.accuracy:.1%} | {s.precision:.1%} | {s.recall:.1%} "
                        f"| {s.sure_wrong} of {s.sure} | {len(s.personal_unflagged)} |")
            print(rows[-1], flush=True)
    rows.append("")
    rows.append("Columns not mapped as labelled (header, lower-cased -> what inspect proposed), over all seeds: "
                + ("; ".join(f"{k} ({n}x)" for k, n in sorted(misses.items())) or "none") + ".")
    return rows


def public() -> list[str]:
    """Accuracy per hand-labelled set of files the project did not generate."""
    from riskkit.inspect.corpus import evaluate, load_labels

    rows = ["| set | files | tables | columns | correct | precision | recall | sure mappings wrong "
            "| personal left unflagged | columns not mapped as labelled |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, items in load_labels(ROOT / "benchmarks" / "inspect_public_labels.yml", ROOT).items():
        s = evaluate(items)
        misses = "; ".join(m.split("/", 2)[2] for m in s.mistakes) or "none"
        rows.append(f"| {name} | {len({i.path for i in items})} | {len(items)} | {s.columns} | {s.accuracy:.1%} "
                    f"| {s.precision:.1%} | {s.recall:.1%} | {s.sure_wrong} of {s.sure} | {len(s.personal_unflagged)} "
                    f"| {misses} |")
        print(rows[-1], flush=True)
    return rows


def phones(n: int = 3000) -> list[str]:
    """phonenumbers against a hand-written pattern, on Faker en_GB numbers and look-alikes."""
    from faker import Faker

    from riskkit.inspect.patterns import _phone

    fake = Faker("en_GB")
    fake.seed_instance(7)
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    positives = [fake.phone_number() for _ in range(n)]
    negatives = ([f"{rng.randint(10_000_000, 99_999_999)}" for _ in range(n // 4)]  # account numbers
                 + [f"{rng.randint(1, 9)}{rng.randint(10**9, 10**10 - 1)}" for _ in range(n // 4)]  # 11 digits, no 0
                 + [f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2008)}" for _ in range(n // 4)]
                 + [f"H{rng.randint(100000, 999999)}" for _ in range(n // 4)]
                 + [f"0{rng.randint(10**10, 10**11 - 1)}" for _ in range(n // 4)]  # 12 digits: one too many
                 + [f"00{rng.randint(10**8, 10**9 - 1)}" for _ in range(n // 4)])  # no UK number starts 00
    out = [f"| phone check | found (of {len(positives):,} Faker en_GB numbers) | false alarms (of {len(negatives):,} "
           "look-alikes) |", "|---|---:|---:|"]
    for name, check in (("phonenumbers (UK numbering plan)", _phone), ("hand-written pattern", HAND_PHONE.match)):
        found = sum(bool(check(v)) for v in positives)
        false = sum(bool(check(v)) for v in negatives)
        out.append(f"| {name} | {found / len(positives):.1%} | {false / len(negatives):.1%} |")
        print(out[-1], flush=True)
    return out


def speed(files: int) -> list[str]:
    from riskkit.inspect.corpus import write_corpus
    from riskkit.inspect.inventory import inspect_paths
    from riskkit.inspect.tables import read_tables

    with tempfile.TemporaryDirectory() as tmp:
        labelled = write_corpus(Path(tmp), files=files)
        paths = sorted({i.path for i in labelled})
        read = min(_timed(lambda: [list(read_tables(p)) for p in paths]) for _ in range(2))
        full = min(_timed(lambda: inspect_paths(paths)) for _ in range(2))
        columns = sum(len(i.labels) for i in labelled)
    line = (f"Inspecting the {len(paths)} files ({columns} columns) took {full:.2f} s against {read:.2f} s to read "
            f"their tables: {full / read:.2f}x (best of 2 each).")
    print(line)
    return [line]


def inventory(n: int) -> list[str]:
    """The briefing inventory's share of ``analyse`` on an n-record scale extract: one analyse
    with the inventory timed inside it (its cost is additive: nothing else reads its result),
    then the inventory the old way (every file re-read and re-counted) on the same ingest."""
    from riskkit import analysis
    from riskkit.incident import load_incident
    from riskkit.ingest import ingest
    from riskkit.inspect.workbook import INVENTORY_SAMPLE_ROWS, workbook_inventory
    from riskkit.scale import write_scale_incident

    with tempfile.TemporaryDirectory() as tmp:
        path = write_scale_incident(Path(tmp), n)
        inner, spent = analysis.extract_inventory, []

        def timed_inventory(*args, **kw):
            start = time.perf_counter()
            try:
                return inner(*args, **kw)
            finally:
                spent.append(time.perf_counter() - start)

        analysis.extract_inventory = timed_inventory
        try:
            total = _timed(lambda: analysis.analyse(path))
        finally:
            analysis.extract_inventory = inner
        inc = load_incident(path)
        data = ingest(inc)
        new = min(_timed(lambda: workbook_inventory(inc, data.files)) for _ in range(2))
        old = _timed(lambda: workbook_inventory(inc, sample_rows=5000))  # as before: every row, 5,000 sampled
        same = [r.categories for r in workbook_inventory(inc, data.files)] == \
            [r.categories for r in workbook_inventory(inc, sample_rows=5000)]
    without = total - spent[0]
    lines = ["## Briefing inventory: cost at scale", "",
             f"Generated by `python benchmarks/inspect_accuracy.py --inventory {n}`. `riskkit.analysis.analyse` on a "
             f"{n:,}-record scale extract (`riskkit sample --scale`) took {total:.1f} s, of which the whole-extract "
             f"inventory took {spent[0]:.2f} s: the inventory adds {spent[0] / without:.1%} to the "
             f"{without:.1f} s without it (with/without {total / without:.3f}). Row counts come from ingest and "
             f"only the first {INVENTORY_SAMPLE_ROWS:,} rows of each table are read to classify it ({new:.2f} s, "
             f"best of 2, measured alone). Re-reading and re-counting every row as before took {old:.2f} s, "
             f"{old / without:.1%} of the analysis. The categories named are "
             f"{'the same as' if same else 'NOT the same as'} from a 5,000-row sample."]
    print("\n".join(lines), flush=True)
    return [INV_START, *lines, INV_END]


def _write_section(section: list[str], start: str, end: str) -> None:
    results = ROOT / "benchmarks" / "results.md"
    text = results.read_text() if results.exists() else "# riskkit benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + "\n".join(section) + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    results.write_text(text)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="16,1,2")
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--inventory", type=int, default=0, help="only measure the briefing inventory at N records")
    args = parser.parse_args(argv)
    if args.inventory:
        _write_section(inventory(args.inventory), INV_START, INV_END)
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    section = [START, "## riskkit inspect: column mapping accuracy", "",
               f"Generated by `python benchmarks/inspect_accuracy.py --seeds {args.seeds} --files {args.files}`. Each seed "
               "writes the labelled export corpus (`riskkit.inspect.corpus`): HR, police and council exports in "
               "comma, semicolon and tab CSV (UTF-8 and Windows-1252), workbooks with a hidden second sheet and a "
               "lookup sheet, title rows above the header, Parquet, names from seven Faker locales, names and "
               "addresses written as is, in UPPER CASE or in lower case by file (since issue 16's second round). "
               "A column is "
               "correct when inspect proposes its labelled canonical field, or leaves it unmapped when it has "
               "none. Precision: of the columns inspect mapped, the share mapped as labelled. Recall: of the "
               "columns labelled with a field, the share inspect mapped so. 'Sure' mappings are those the draft "
               "does not mark `# check`. The rules were developed against the development wording. The held-out "
               "wording was written before its first measurement, which scored 91.0%, 84.7% and 85.1% correct "
               "(seeds 16, 1, 2; precision 100%), mostly whole hidden sheets left out because 'Customer Name' was "
               "not read as a name column. After reading those misses five rules were widened (any '... Name' "
               "header, 'Reference No', 'Current Age', 'LA', 'Civil Status'), so the held-out rows below are no "
               "longer a clean hold-out: read them as an upper bound for unseen wording.", "",
               *accuracy(seeds, args.files), "",
               "### On exports the project did not generate", "",
               "FEBRL datasets 1-3 (the public record-linkage test data: Australian people, lower-case names, "
               "`yyyymmdd` dates of birth, 4-digit postcodes, `soc_sec_id`) and hand-written files imitating real "
               "tools (a Civica/Northgate-style council export in UPPER CASE, an Oracle HRMS report with title rows, "
               "an SAP HCM query, a police workbook with hidden sheets, a semicolon `DD.MM.YYYY` SaaS export), "
               "hand-labelled in `benchmarks/inspect_public_labels.yml`. Before this work inspect mapped 36.4% of "
               "FEBRL's columns as labelled (none of the seven with a field: lower-case names failed the "
               "capitalised-word pattern, so the tables had no name column) and 91.0% of the hand-written ones "
               "(78 columns). The rules were then changed while looking at both sets, so their rows below are "
               "not a hold-out. The held-out set (three more files: a tab-separated clinic list, a school consent "
               "workbook, a pipe-delimited housing repairs log) was written and labelled after those changes; its "
               "first score was 96.9% correct (31 of 32 columns; precision 100%, recall 94.4%, no personal column "
               "unflagged), the miss 'tenant ref' left unmapped (no rule named a tenant's reference, and case "
               "references with more than four digits before the '/' did not match). Both were then widened "
               "(references of tenants, claimants, patients, pupils...; up to eight digits), so that row too is "
               "now an upper bound, not a clean hold-out.", "",
               *public(), "", *phones(),
               "", "The phone check uses `phonenumbers` with a short pre-check (starts 0 or +44, 10 to 13 digits, "
               "no letters). In the first run the look-alikes were only account numbers, 11-digit numbers, dates and "
               "payroll ids: there the pattern raised no false alarm and riskkit 0.2% (its pre-check then let a bare "
               "'44' prefix through, since removed). Numbers one digit too long and numbers starting 00 were "
               "added after that run; the pattern accepts them, the numbering plan does not.", "",
               *speed(args.files), END]
    _write_section(section, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
