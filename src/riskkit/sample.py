"""Synthetic sample incidents, regenerated deterministically by ``riskkit sample``.

The people are invented (Faker, en_GB, fixed seed); the shape of each incident follows the
public facts of the two reference breaches so that the sample exercises what real extracts
do: typed district names, people in several cases with small spelling differences, files
from different HR systems, a stray row that must be quarantined.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import shapely
from faker import Faker

from riskkit import districts, geography
from riskkit.outputs import atomic_write_bytes, atomic_write_text

SEED = 20131009
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
ASB_CASES = {  # 61 cases over Hertfordshire's ten districts, 9 in Dacorum
    "E07000095": 5, "E07000096": 9, "E07000242": 7, "E07000098": 5, "E07000099": 6,
    "E07000240": 6, "E07000243": 6, "E07000102": 4, "E07000103": 7, "E07000241": 6,
}
NAME_VARIANTS = {"John": "Jon", "Stephen": "Steven", "Catherine": "Katherine", "Sarah": "Sara",
                 "Mohammed": "Mohammad", "Claire": "Clare", "Philip": "Phillip", "Rebecca": "Rebekah"}
DISTRICT_TYPOS = ["{n}", "{n} Borough Council", "{N}", "{n} District Council", "{n} BC", "{n} DC"]
ASB_ROLE_LABELS = {"victim": ["Complainant/Victim", "Victim", "Complainant"],
                   "alleged_perpetrator": ["Alleged Perpetrator", "Suspect", "Alleged Offender"],
                   "witness": ["Witness"], "reporting_person": ["Reporting Person", "Caller"]}
ASB_NOTES = ["Noise nuisance", "Youths gathering", "Neighbour dispute", "Vehicle nuisance",
             "Drug-related ASB", "Criminal damage", "Verbal abuse", "Littering and fly-tipping"]


@dataclass
class Place:
    lad_code: str
    town: str
    postcode: str
    lat: float
    lon: float


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.towns = districts.towns()
        self.bounds = geography.schematic_boundaries().set_index("lad_code")
        self.to_wgs = geography.Transformer.from_crs(geography.BNG, geography.WGS84, always_xy=True)
        self.to_bng = geography._to_bng()
        self.names = dict(districts.reference()[["lad_code", "district"]].values)

    def place(self, lad_code: str) -> Place:
        """A home near one of the district's towns, inside its schematic boundary."""
        towns = self.towns[self.towns.lad_code == lad_code]
        town = towns.iloc[self.rng.randrange(len(towns))]
        poly = self.bounds.loc[lad_code, "geometry"]
        cx, cy = self.to_bng.transform(town.lon, town.lat)
        for _ in range(200):
            x, y = cx + self.rng.gauss(0, 1500), cy + self.rng.gauss(0, 1500)
            if shapely.contains_xy(poly, x, y) and poly.boundary.distance(shapely.Point(x, y)) > 300:
                break
        else:  # pragma: no cover - a town far outside its own cell would be a data error
            x, y = poly.representative_point().x, poly.representative_point().y
        lon, lat = self.to_wgs.transform(x, y)
        outward = self.rng.choice(town.outward_codes.split())
        inward = f"{self.rng.randint(1, 9)}{self.rng.choice(INWARD_LETTERS)}{self.rng.choice(INWARD_LETTERS)}"
        return Place(lad_code, town.town, f"{outward} {inward}", round(lat, 6), round(lon, 6))

    def person(self, lad_code: str, min_age: int = 18, max_age: int = 85, ref: date = date(2026, 10, 9)) -> dict:
        first = self.fake.first_name()
        if self.rng.random() < 0.12:
            first = self.rng.choice(list(NAME_VARIANTS))
        age_days = self.rng.randint(min_age * 365 + 30, max_age * 365)
        return {"first": first, "last": self.fake.last_name(), "dob": ref - timedelta(days=age_days),
                "street": f"{self.fake.building_number()} {self.fake.street_name()}",
                "place": self.place(lad_code), "phone": self.fake.cellphone_number() if self.rng.random() < 0.6 else ""}

    def district_text(self, lad_code: str) -> str:
        name = self.names[lad_code]
        return self.rng.choice(DISTRICT_TYPOS).format(n=name, N=name.upper())


def _neighbour(rng: random.Random, lad_code: str) -> str:
    herts = list(ASB_CASES)
    return rng.choice([c for c in herts if c != lad_code])


def asb_rows(seed: int = SEED) -> list[dict]:
    """The published ASB case list: one row per subject per case."""
    g = _Gen(seed)
    rng = g.rng
    cases = [code for code, n in ASB_CASES.items() for _ in range(n)]
    rng.shuffle(cases)
    rows: list[dict] = []
    repeaters: list[tuple[str, dict]] = []
    for i, lad in enumerate(cases, start=1):
        ref = f"ASB/24/{i:04d}"
        reported = date(2026, 1, 5) + timedelta(days=rng.randint(0, 270))
        n_subjects = rng.choices([1, 2, 3, 4], weights=[20, 40, 30, 10])[0]
        hate, domestic = rng.random() < 0.08, rng.random() < 0.08
        roles = ["victim", "alleged_perpetrator", "witness", "reporting_person"][:n_subjects]
        if n_subjects == 1 and rng.random() < 0.5:
            roles = ["reporting_person"]
        location_text = g.district_text(lad)
        for role in roles:
            reuse = [p for r, p in repeaters if r == role and p["place"].lad_code == lad]
            if reuse and rng.random() < 0.35:
                person = dict(reuse[0])
                first = NAME_VARIANTS.get(person["first"], person["first"])
                person["first"] = first if rng.random() < 0.7 else person["first"]
                person["pc_compact"] = rng.random() < 0.5
            else:
                home = lad if role != "alleged_perpetrator" or rng.random() < 0.8 else _neighbour(rng, lad)
                child = role in ("witness", "alleged_perpetrator") and rng.random() < 0.08
                person = g.person(home, 14 if child else 18, 17 if child else 85)
                if role in ("victim", "alleged_perpetrator") and rng.random() < 0.15:
                    repeaters.append((role, person))
            markers = []
            if role == "victim":
                markers += ["Vulnerable adult"] if rng.random() < 0.15 else []
                markers += ["Repeat victim"] if rng.random() < 0.2 else []
            if (date(2026, 10, 9) - person["dob"]).days < 18 * 365:
                markers.append("Child")
            markers += ["Hate related"] if hate else []
            markers += ["Domestic abuse related"] if domestic else []
            place = person["place"]
            postcode = place.postcode.replace(" ", "") if person.get("pc_compact") else place.postcode
            use_age = rng.random() < 0.15
            no_coords = rng.random() < 0.06
            rows.append({
                "Case Ref": ref, "Date Reported": reported.strftime("%d/%m/%Y"),
                "Case Location District": location_text,
                "Subject Role": rng.choice(ASB_ROLE_LABELS[role]),
                "Forename": person["first"], "Surname": person["last"],
                "DOB": "" if use_age else person["dob"].strftime("%d/%m/%Y"),
                "Age": str((date(2026, 10, 9) - person["dob"]).days // 365) if use_age else "",
                "Address": person["street"], "Town": place.town, "Postcode": postcode,
                "Latitude": "" if no_coords else f"{place.lat:.6f}",
                "Longitude": "" if no_coords else f"{place.lon:.6f}",
                "Resident District": g.district_text(place.lad_code) if rng.random() < 0.9 else "",
                "Telephone": person["phone"], "Markers": "; ".join(markers),
                "Case Notes": rng.choice(ASB_NOTES),
            })
    # Two planted conflicts: the typed district disagrees with where the coordinates fall.
    for row in [r for r in rows if r["Latitude"] and "Three Rivers" not in r["Resident District"]][3:5]:
        row["Resident District"] = "Watford Borough Council" if "Watford" not in row["Resident District"] else "Three Rivers DC"
    # Rows an analyst must see in the quarantine rather than in the counts.
    stray = dict(rows[10], **{"Case Ref": "", "Subject Role": "Witness"})
    stray.update({"Forename": g.fake.first_name(), "Surname": g.fake.last_name()})
    bad_date = dict(rows[20], **{"DOB": "31/02/1979", "Age": "", "Subject Role": "Witness"})
    bad_date.update({"Forename": g.fake.first_name(), "Surname": g.fake.last_name()})
    rows.insert(11, stray)
    rows.insert(22, bad_date)
    return rows


HR_SYSTEMS = {
    "herts": {"id": "Employee No", "first": "Forenames", "last": "Surname", "dob": "DOB", "addr": "Home Address",
              "town": "Town", "pc": "Post Code", "job": "Job Title", "band": "Grade/Salary Band",
              "sick": "Sickness Absence (Y/N)", "email": "Work Email"},
    "beds": {"id": "person_id", "first": "first_name", "last": "last_name", "dob": "date_of_birth",
             "addr": "address_1", "town": "address_2", "pc": "postcode", "job": "role", "band": "salary_band",
             "sick": "absence_flag", "email": "email", "sensitive": "protected_role"},
    "cambs": {"id": "StaffRef", "name": "Name", "dob": "BirthDate", "addr": "Addr", "town": "Area", "pc": "PCode",
              "job": "Post", "band": "PayBand", "sick": "LTS"},
}
FORCE_DISTRICTS = {
    "herts": list(ASB_CASES),
    "beds": ["E06000055", "E06000056", "E06000032"],
    "cambs": ["E07000008", "E07000009", "E07000010", "E07000011", "E07000012", "E06000031"],
}
STAFF_FILES = [  # (file name, system, rows of new people, rows repeated from an earlier file)
    ("herts_hr_extract_1.csv", "herts", 230, 0),
    ("herts_hr_extract_2.xlsx", "herts", 225, 20),
    ("beds_people_export.xlsx", "beds", 235, 15),
    ("cambs_staff_list.csv", "cambs", 170, 0),
    ("cambs_staff_list_2.xlsx", "cambs", 160, 12),
]
JOBS = ["HR Advisor", "Finance Officer", "Payroll Assistant", "Call Handler", "Analyst", "Fleet Technician",
        "ICT Support Analyst", "Procurement Officer", "Estates Manager", "Admin Officer", "Vetting Officer",
        "Custody Detention Officer", "Learning and Development Officer"]


def staff_tables(seed: int = SEED) -> dict[str, list[dict]]:
    """Five HR exports from three systems, with people repeated across files."""
    g = _Gen(seed + 1)
    rng = g.rng
    pool: dict[str, list[dict]] = {"herts": [], "beds": [], "cambs": []}
    tables: dict[str, list[dict]] = {}
    for fname, system, n_new, n_repeat in STAFF_FILES:
        cols = HR_SYSTEMS[system]
        people = []
        source_pool = pool["herts"] if system == "beds" else pool[system]
        for p in rng.sample(source_pool, min(n_repeat, len(source_pool))):
            q = dict(p)
            if system == "beds":  # collaborated unit: same person, another system's id and spelling
                q["id"] = f"B{rng.randint(100000, 999999)}"
                q["first"] = NAME_VARIANTS.get(q["first"], q["first"])
            people.append(q)
        for _ in range(n_new):
            home = rng.choice(FORCE_DISTRICTS[system]) if rng.random() < 0.85 else \
                rng.choice([c for v in FORCE_DISTRICTS.values() for c in v])
            p = g.person(home, 19, 66)
            p.update(id={"herts": "H", "beds": "B", "cambs": "C"}[system] + str(rng.randint(100000, 999999)),
                     job=rng.choice(JOBS), band=f"Band {rng.choice('ABCDEFG')}", sick=rng.random() < 0.12,
                     sensitive=system == "beds" and rng.random() < 0.02)
            pool[system].append(p)
            people.append(p)
        rows = []
        for p in people:
            place = p["place"]
            email = f"{p['first'].lower()}.{p['last'].lower()}@{system}.police.example".replace(" ", "")
            dob = p["dob"].strftime("%Y-%m-%d") if system == "beds" else p["dob"].strftime("%d/%m/%Y")
            if system == "cambs":
                row = {cols["id"]: p["id"], cols["name"]: f"{p['last'].upper()}, {p['first']}",
                       cols["dob"]: p["dob"].strftime("%d.%m.%Y"), cols["addr"]: p["street"], cols["town"]: place.town,
                       cols["pc"]: place.postcode, cols["job"]: p["job"], cols["band"]: p["band"],
                       cols["sick"]: "Y" if p["sick"] else ""}
            else:
                row = {cols["id"]: p["id"], cols["first"]: p["first"], cols["last"]: p["last"], cols["dob"]: dob,
                       cols["addr"]: p["street"], cols["town"]: place.town, cols["pc"]: place.postcode,
                       cols["job"]: p["job"], cols["band"]: p["band"],
                       cols["sick"]: ("Y" if p["sick"] else "N") if system == "herts" else ("TRUE" if p["sick"] else "FALSE"),
                       cols["email"]: email}
                if system == "beds":
                    row[cols["sensitive"]] = "Y" if p["sensitive"] else "N"
            rows.append(row)
        rng.shuffle(rows)
        tables[fname] = rows
    return tables


def _write_csv(path: Path, rows: list[dict], delimiter: str = ",", encoding: str = "utf-8") -> None:
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode(encoding))


def _write_xlsx(path: Path, rows: list[dict]) -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append(list(rows[0]))
    for row in rows:
        ws.append(list(row.values()))
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(path, buf.getvalue())


def _postcode_lookup(tables: dict[str, list[dict]], seed: int) -> list[dict]:
    """An ONS-postcode-directory-shaped lookup for the staff postcodes (a few left out)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data
    g_towns = districts.towns()
    outward_lad = {o: r.lad_code for r in g_towns.itertuples() for o in r.outward_codes.split()}
    seen: dict[str, str] = {}
    for fname, rows in tables.items():
        key = "PCode" if fname.startswith("cambs") else ("postcode" if fname.startswith("beds") else "Post Code")
        for row in rows:
            pc = row[key]
            seen.setdefault(pc, outward_lad[pc.split()[0]])
    out = [{"pcd": pc.replace(" ", ""), "pcds": pc, "lad": lad} for pc, lad in sorted(seen.items())
           if rng.random() > 0.01]
    return out


def write_samples(root: Path, seed: int = SEED) -> list[Path]:
    """Regenerate every sample file under ``root`` (``data/sample``); returns what was written."""
    written = []
    asb = root / "asb_publication"
    staff = root / "staff_transfer"
    bounds = root / "boundaries"
    for folder in (asb, staff, bounds):
        folder.mkdir(parents=True, exist_ok=True)
    _write_csv(asb / "asb_case_list.csv", asb_rows(seed))
    written.append(asb / "asb_case_list.csv")
    atomic_write_text(asb / "incident.yml", ASB_INCIDENT)
    written.append(asb / "incident.yml")

    tables = staff_tables(seed)
    for fname, rows in tables.items():
        path = staff / fname
        if fname.endswith(".xlsx"):
            _write_xlsx(path, rows)
        elif fname.startswith("cambs"):
            _write_csv(path, rows, delimiter=";", encoding="cp1252")
        else:
            _write_csv(path, rows)
        written.append(path)
    _write_csv(staff / "postcode_lookup.csv", _postcode_lookup(tables, seed))
    atomic_write_text(staff / "incident.yml", STAFF_INCIDENT)
    written += [staff / "postcode_lookup.csv", staff / "incident.yml"]

    gdf = geography.schematic_boundaries().to_crs(geography.WGS84)
    gdf["geometry"] = shapely.set_precision(gdf.geometry.values, 1e-6)
    atomic_write_text(bounds / "schematic_lad.geojson", gdf.to_json(drop_id=True))
    atomic_write_text(bounds / "README.md", BOUNDARIES_README)
    written += [bounds / "schematic_lad.geojson", bounds / "README.md"]
    return written


BOUNDARIES_README = """# Schematic district boundaries (synthetic)

`schematic_lad.geojson` is generated by `riskkit sample`: Voronoi cells around each district's
main towns (public town coordinates), merged per district and clipped to a margin around all
towns. **These are not real boundaries.** Every map drawn from them says "schematic
boundaries". For real work use the official ONS Local Authority District boundaries
(`riskkit boundaries download`, or a file from the ONS Open Geography Portal), set in the
incident file under `boundaries:`.
"""

ASB_INCIDENT = """\
# Synthetic sample incident modelled on a public report; every person in the extract is invented.
id: asb-publication-sample
title: ASB case list published on the force website
controller: Hertfordshire Constabulary (sample)
regime: dpa2018_part3
protective_marking: OFFICIAL-SENSITIVE
summary: >-
  An upload error in an externally hosted case-management system published a list of
  anti-social behaviour cases, with the names and addresses of the people involved, on the
  force's public "local priorities" web pages.
subject_noun: people
case_noun: anti-social behaviour cases
data_context: [police_asb_case]
subject_categories: [victims, suspects, witnesses]
timestamps:
  occurred: 2026-10-04T09:15:00+01:00
  became_aware: 2026-10-09T10:30:00+01:00
  contained: 2026-10-09T11:45:00+01:00
exposure:
  channel: public_web
  recipients: public
  duration_hours: 120
  evidence_of_access: low_views
  page_views: 14
  description: Public web pages; very few visits and no report of the data being seen.
containment:
  removed: true
  deletion_confirmed: false
  description: Pages taken down and suspended; search engine caches checked.
boundaries:
  path: ../boundaries/schematic_lad.geojson
  code_column: lad_code
  name_column: district
  schematic: true
files:
  - path: asb_case_list.csv
    columns:
      case_ref: Case Ref
      case_district: Case Location District
      role: Subject Role
      first_name: Forename
      last_name: Surname
      date_of_birth: DOB
      age: Age
      address: Address
      town: Town
      postcode: Postcode
      lat: Latitude
      lon: Longitude
      district: Resident District
      phone: Telephone
      markers: Markers
      notes: Case Notes
"""

STAFF_INCIDENT = """\
# Synthetic sample incident modelled on a public report; every person in the extract is invented.
id: staff-transfer-sample
title: Staff files sent to an outsourcing firm
controller: Bedfordshire, Cambridgeshire and Hertfordshire police forces (sample)
regime: uk_gdpr
protective_marking: OFFICIAL-SENSITIVE
summary: >-
  Five files with personal information on support staff of three forces, more than the
  firm needed, were sent through an existing framework to a firm preparing an outsourcing
  business case. A non-disclosure agreement was in place and the firm confirmed deletion.
subject_noun: staff
case_noun: staff records
subject_categories: [employees]
timestamps:
  occurred: 2026-01-12T14:00:00+00:00
  became_aware: 2026-01-20T09:00:00+00:00
  contained: 2026-01-27T17:00:00+00:00
exposure:
  channel: file_transfer
  recipients: trusted_contract
  duration_hours: 363
  evidence_of_access: none
  description: Sent electronically to a contracted firm under a non-disclosure agreement.
containment:
  removed: true
  deletion_confirmed: true
  description: The firm's information assurance lead confirmed deletion of all copies.
postcode_lookup:
  path: postcode_lookup.csv
  postcode_column: pcds
  code_column: lad
files:
  - path: herts_hr_extract_1.csv
    columns: &herts
      employee_id: Employee No
      first_name: Forenames
      last_name: Surname
      date_of_birth: DOB
      address: Home Address
      town: Town
      postcode: Post Code
      job_title: Job Title
      salary_band: Grade/Salary Band
      sickness_absence: Sickness Absence (Y/N)
      email: Work Email
  - path: herts_hr_extract_2.xlsx
    columns: *herts
  - path: beds_people_export.xlsx
    columns:
      employee_id: person_id
      first_name: first_name
      last_name: last_name
      date_of_birth: date_of_birth
      address: address_1
      town: address_2
      postcode: postcode
      job_title: role
      salary_band: salary_band
      sickness_absence: absence_flag
      email: email
      sensitive_role: protected_role
  - path: cambs_staff_list.csv
    encoding: cp1252
    columns: &cambs
      employee_id: StaffRef
      full_name: Name
      date_of_birth: BirthDate
      address: Addr
      town: Area
      postcode: PCode
      job_title: Post
      salary_band: PayBand
      sickness_absence: LTS
  - path: cambs_staff_list_2.xlsx
    columns: *cambs
"""



def compare_samples(root: Path, seed: int = SEED) -> list[str]:
    """Sample files under ``root`` that differ from what the generator makes now.

    Text files compare byte for byte; workbooks compare cell values (their zip container
    carries timestamps that are not part of the data).
    """
    import tempfile

    import openpyxl

    different = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_samples(Path(tmp), seed)
        for new in fresh:
            rel = new.relative_to(tmp)
            old = Path(root) / rel
            if not old.exists():
                different.append(str(rel))
            elif new.suffix == ".xlsx":
                def cells(p: Path) -> list:
                    wb = openpyxl.load_workbook(p, read_only=True)
                    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
                    wb.close()
                    return rows
                if cells(new) != cells(old):
                    different.append(str(rel))
            elif new.read_bytes() != old.read_bytes():
                different.append(str(rel))
    return different
