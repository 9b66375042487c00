"""The published reference cases, encoded as small incidents with their published outcome.

Each case says where it comes from, the facts as encoded (and which facts had to be assumed
because the source does not give them), and the outcome the source published: notify the
regulator, tell the people. ENISA's examples publish a DPC and a severity band instead.

Sources: ENISA, "Recommendations for a methodology of the assessment of severity of personal
data breaches" (2013), the calibration examples quoted in /work/shared/reference and issue 14;
EDPB Guidelines 01/2021 on examples regarding personal data breach notification (version 2.0),
cases 1 to 18, each ending with a table "internal documentation / notification to SA /
communication to data subjects".

Which text each published outcome was checked against (and which are still unverified, written
from memory) is in docs/methodology.md, section 5, column "source": only EDPB Case 01 was read in
the guidelines themselves; change an outcome only with the case's own table in hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIRST = ["Ann", "Bob", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kim", "Lee", "Mia", "Ned",
         "Oli", "Pat", "Raj", "Sue", "Tom", "Uma", "Val", "Wes", "Xia", "Yan", "Zoe"]
LAST = ["Ashdown", "Brackley", "Colwyn", "Dunmore", "Ellery", "Fenwick", "Garside", "Holbrook", "Ingram",
        "Jellicoe", "Kettering", "Lomax", "Merriman", "Norbury", "Ormerod", "Pennock", "Quayle", "Rudge",
        "Stanier", "Thursby", "Upcott", "Venning", "Whitlock", "Yardley", "Zouch", "Abbing", "Birtles",
        "Cundall", "Dimmock", "Eggleton", "Frome", "Gledhill", "Hurrell", "Izzard", "Jowett", "Kilner",
        "Lusby", "Mottram", "Nettleship", "Oddie", "Pluck", "Quarmby", "Roebuck", "Sugden", "Tuffin"]
STREETS = ["High Street", "Mill Lane", "Church Road", "Station Road", "Park Avenue", "Kings Close", "Orchard Way"]


def people(n: int, *fields: str) -> list[dict]:
    """``n`` invented people with the listed canonical fields filled (headers are the field names).

    Each row is a clearly different person (distinct surname, street, postcode and date of birth), so
    that record linkage counts ``n`` people: with near-identical invented rows ("Example0",
    "Example1", one postcode) the linker rightly merged them into one or a few people, and the
    cases were then assessed as if far fewer people were affected than the source describes.
    """
    rows = []
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        value = {"case_ref": f"R{i + 1:04d}", "full_name": f"{first} {last}", "address": f"{i + 1} {STREETS[i % 7]}",
                 "postcode": f"HP{1 + i % 9} {1 + i // 9}{chr(65 + i % 26)}{chr(90 - i % 26)}",
                 "date_of_birth": f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1950 + i}", "email": f"{first}.{last}@example.org".lower(),
                 "phone": f"07700 900{i % 1000:03d}", "job_title": "Constable", "employee_id": f"E{i:05d}",
                 "ni_number": f"QQ12{i % 10000:04d}C", "bank_account": f"12-34-56 {10000000 + i}",
                 "last_name": last, "first_name": first[0]}
        rows.append({f: value.get(f, f"{f} {i}") for f in fields})
    return rows


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    source: str
    notify: bool | None  # the published outcome; None when the source publishes only a severity
    tell: bool | None
    rows: list[dict]
    exposure: dict
    containment: dict = field(default_factory=dict)
    incident: dict = field(default_factory=dict)  # data_context, threat_context, subject_categories, regime
    categories: dict = field(default_factory=dict)  # extra column header -> category (or with adjustment)
    dpc: int | None = None  # ENISA's published DPC
    severity_band: str | None = None  # ENISA's published band (SE = DPC x EI + CB)
    assumed: str = ""  # facts the source does not give, and how they were encoded


def _with(rows: list[dict], **extra: str) -> list[dict]:
    return [dict(r, **extra) for r in rows]


EDPB = "EDPB Guidelines 01/2021"
ENISA = "ENISA 2013"
WEB = {"channel": "public_web", "recipients": "public", "duration_hours": 24, "evidence_of_access": "unknown"}

ENISA_CASES = [
    Case("ENISA-1", "Flower shop customers' names and postal addresses published", ENISA, None, None,
         people(3, "full_name", "address"), WEB, dpc=1, severity_band="Low"),
    Case("ENISA-2", "Investment bank customers' names and postal addresses published", ENISA, None, None,
         people(3, "full_name", "address"), WEB, incident={"data_context": ["financial_services_customer"]},
         dpc=2, severity_band="Medium"),
    Case("ENISA-3", "Adult bookshop's delivery names and addresses published", ENISA, None, None,
         people(3, "full_name", "address"), WEB, incident={"data_context": ["sexual_life_inference"]},
         dpc=3, severity_band="High"),
    Case("ENISA-4", "List of persons accused of child abuse published", ENISA, None, None,
         people(3, "full_name", "address"), WEB, incident={"data_context": ["criminal_allegation"]},
         dpc=4, severity_band="Very high"),
    Case("ENISA-5", "Names and ranks of people working undercover for the police published", ENISA, None, None,
         people(3, "full_name", "job_title"), WEB, incident={"data_context": ["covert_police_role"]},
         dpc=4, severity_band="Very high", assumed="a rank or unit beside each name (no address)"),
    Case("ENISA-6", "One day's bank transaction history disclosed", ENISA, None, None,
         _with(people(3, "full_name", "address"), Transactions="3 payments"), WEB,
         categories={"Transactions": "transaction_history"}, dpc=2, severity_band="Medium"),
    Case("ENISA-7", "Full card details disclosed", ENISA, None, None,
         _with(people(3, "full_name"), Card="4000 0000 0000 0002 12/29 123"), WEB,
         categories={"Card": "card_details"}, dpc=4, severity_band="Very high"),
]

ATTACK = {"channel": "cyber_attack", "malicious": True}

EDPB_CASES = [
    Case("EDPB-01", "Ransomware with proper backup and without exfiltration", EDPB, False, False,
         people(12, "full_name", "email", "phone"),
         {**ATTACK, "recipients": "none", "evidence_of_access": "none", "availability_loss": "temporary",
          "duration_hours": 4, "encrypted": {"state_of_the_art": True, "key_compromised": False}},
         incident={"subject_categories": ["employees", "customers"]},
         assumed="a few dozen people (12 rows); data encrypted at rest, key safe; logs show no outward flow; "
                 "restored from backup within hours (4 h)"),
    Case("EDPB-02", "Ransomware without proper backup", EDPB, True, False,
         people(12, "full_name", "email", "phone"),
         {**ATTACK, "recipients": "none", "evidence_of_access": "none", "availability_loss": "permanent",
          "duration_hours": "ongoing"}, incident={"subject_categories": ["customers"]},
         assumed="part of the data could not be restored (availability loss permanent)"),
    Case("EDPB-03", "Ransomware with backup and without exfiltration in a hospital", EDPB, True, True,
         _with(people(12, "full_name", "date_of_birth"), Diagnosis="noted"),
         {**ATTACK, "recipients": "none", "evidence_of_access": "none", "availability_loss": "temporary",
          "duration_hours": 96}, categories={"Diagnosis": "health"},
         incident={"subject_categories": ["patients"]}, assumed="restoration took four days (96 h)"),
    Case("EDPB-04", "Ransomware without backup and with exfiltration", EDPB, True, True,
         _with(people(12, "full_name", "address", "date_of_birth", "bank_account"), IdCard="X1"),
         {**ATTACK, "recipients": "unknown", "evidence_of_access": "accessed", "availability_loss": "permanent"},
         categories={"IdCard": "identity_document"}, incident={"subject_categories": ["customers"]}),
    Case("EDPB-05", "Exfiltration of job application data from a website", EDPB, True, True,
         _with(people(12, "full_name", "address", "date_of_birth", "email", "phone"), CV="text"),
         {**ATTACK, "recipients": "unknown", "evidence_of_access": "accessed"},
         categories={"CV": "other"}, incident={"data_context": ["job_seekers"]}),
    Case("EDPB-06", "Exfiltration of hashed passwords from a website", EDPB, False, False,
         _with(people(12, "email"), PasswordHash="h"),
         {**ATTACK, "recipients": "unknown", "evidence_of_access": "accessed",
          "encrypted": {"state_of_the_art": True, "key_compromised": False}},
         categories={"PasswordHash": "credentials"},
         assumed="salted state-of-the-art hashes encoded as 'encrypted, key safe'; no name column; the login "
                 "identifier encoded as an email address (intake needs one identifying field, and a bare "
                 "username is not one)"),
    Case("EDPB-07", "Credential stuffing attack on a banking website", EDPB, True, True,
         _with(people(12, "full_name", "bank_account"), History="payments", Login="l"),
         {**ATTACK, "recipients": "unknown", "evidence_of_access": "accessed"},
         categories={"History": "transaction_history", "Login": "credentials"},
         incident={"data_context": ["financial_services_customer"], "subject_categories": ["customers"]}),
    Case("EDPB-08", "Exfiltration of business data by a former employee", EDPB, True, False,
         people(12, "full_name", "address", "phone", "email"),
         {"channel": "other", "malicious": True, "recipients": "known", "evidence_of_access": "accessed",
          "recipients_count": 1}, incident={"subject_categories": ["customers"]},
         assumed="customer contact details only; copying counts as access; how long he keeps them is unknown"),
    Case("EDPB-09", "Accidental transmission of data to a trusted third party", EDPB, False, False,
         people(12, "full_name", "address", "email", "phone"),
         {"channel": "email", "recipients": "trusted_contract", "evidence_of_access": "none", "duration_hours": 2,
          "recipients_count": 1}, {"removed": True, "deletion_confirmed": True},
         incident={"subject_categories": ["customers"]}),
    Case("EDPB-10", "Stolen material storing encrypted personal data", EDPB, False, False,
         people(12, "full_name", "address", "date_of_birth"),
         {"channel": "stolen_device", "malicious": True, "recipients": "unknown",
          "encrypted": {"state_of_the_art": True, "key_compromised": False}},
         incident={"subject_categories": ["customers"]}, assumed="backup available (no availability loss)"),
    Case("EDPB-11", "Stolen material storing non-encrypted personal data", EDPB, True, True,
         people(30, "full_name", "address", "date_of_birth"),
         {"channel": "stolen_device", "malicious": True, "recipients": "unknown"},
         incident={"subject_categories": ["customers"]},
         assumed="30 rows stand for the 100,000 customers; no password or encryption; restorable from the "
                 "daily backup (no availability loss)"),
    Case("EDPB-12", "Stolen paper files with sensitive data", EDPB, True, True,
         _with(people(12, "full_name", "date_of_birth"), Treatment="noted"),
         {"channel": "paper", "malicious": True, "recipients": "unknown", "availability_loss": "permanent"},
         categories={"Treatment": "health"}, incident={"subject_categories": ["patients"]},
         assumed="the logbook gives each patient's date of birth"),
    Case("EDPB-13", "Postal mail mistake: a webshop's order sent to the wrong customer", EDPB, False, False,
         _with(people(1, "full_name", "address"), Items="shoes"),
         {"channel": "post", "recipients": "known", "recipients_count": 1, "evidence_of_access": "accessed",
          "duration_hours": 48}, {"removed": True, "deletion_confirmed": True},
         categories={"Items": "purchase"}, incident={"subject_categories": ["customers"]}),
    Case("EDPB-14", "Highly confidential personal data sent by email by mistake", EDPB, True, True,
         people(20, "full_name", "address", "email", "ni_number"),
         {"channel": "email", "recipients": "known", "recipients_count": 60},
         incident={"data_context": ["job_seekers"]},
         assumed="20 rows stand for the job seekers; social security numbers mapped to ni_number"),
    Case("EDPB-15", "Personal data sent by email by mistake (course participants)", EDPB, False, False,
         _with(people(15, "full_name", "email"), Food="none"),
         {"channel": "email", "recipients": "known", "recipients_count": 15, "duration_hours": 24},
         categories={"Food": {"category": "health", "adjust": -3,
                              "reason": "a food intolerance: no real insight into health"}},
         assumed="two participants' lactose intolerance scored as health -3 (ENISA: no real insight); "
                 "recipients asked to delete within a day"),
    Case("EDPB-16", "Postal mail mistake: an insurance policy sent to the wrong address", EDPB, True, False,
         _with(people(1, "full_name", "address", "date_of_birth"), Premium="420", Vehicle="AB12 CDE"),
         {"channel": "post", "recipients": "known", "recipients_count": 1, "evidence_of_access": "accessed",
          "duration_hours": 72}, {"removed": True, "deletion_confirmed": True},
         categories={"Premium": "financial_other", "Vehicle": "other"},
         assumed="the recipient returned the letter (deletion confirmed)"),
    Case("EDPB-17", "Identity theft: a customer's invoices obtained by an impostor", EDPB, True, True,
         _with(people(1, "full_name", "address", "phone", "email", "bank_account"), Calls="records"),
         {"channel": "other", "malicious": True, "recipients": "known", "recipients_count": 1,
          "evidence_of_access": "misused"}, categories={"Calls": "communications"},
         incident={"subject_categories": ["customers"]}),
    Case("EDPB-18", "Email exfiltration: invoices and payment details forwarded to an attacker", EDPB, True, True,
         _with(people(12, "full_name", "email", "bank_account"), Card="auth"),
         {**ATTACK, "recipients": "unknown", "evidence_of_access": "accessed", "duration_hours": 2160},
         categories={"Card": "card_details"}, incident={"subject_categories": ["employees", "customers"]}),
]

PSNI = Case("PSNI-like", "Every officer's surname, initial, rank, department and location published (FOI)",
            "PSNI, 8 August 2023 (ICO fine 2024)", True, True,
            _with(people(40, "first_name", "last_name", "job_title", "employee_id"), Department="Response",
                  Location="Station"),
            {"channel": "public_web", "recipients": "public", "duration_hours": 2.33,
             "evidence_of_access": "accessed"},
            {"removed": True}, categories={"Department": "workplace", "Location": "workplace"},
            incident={"threat_context": ["terrorist_threat_to_staff"], "subject_categories": ["employees"],
                      "regime": "uk_gdpr"},
            assumed="40 rows stand for the 9,483 officers and staff; everyone was told")

ALL = ENISA_CASES + EDPB_CASES + [PSNI]
