"""What a column's header says: canonical fields and data categories from header words.

Exports from HR (iTrent, SAP, Oracle), police (Niche, Athena, ASB case systems) and council
systems name the same thing many ways ("Post Code", "PCode", "pcds"; "DOB", "BirthDate";
"Employee No", "StaffRef", "Payroll Number"). Headers are normalised (camel case split, case
and punctuation folded, common abbreviations expanded) and matched first as whole phrases,
then by key words; each match carries a confidence that the value patterns then confirm or
contradict.
"""

from __future__ import annotations

import re

# Another country's national identity number (US/Australian social security, Dutch BSN, Irish
# PPS, an "identity card" or "tax file" number); the UK's is the national insurance number.
NATIONAL_ID = (r"social sec(urity)?|national identi(fier|ty)|national id\b|tax file|"
               r"personal (id|identity) number|citizen (id|number)|\bbsn\b|\bpps( number)?$|identity card")

# Abbreviations expanded token by token before matching.
ABBREVIATIONS = {
    "addr": "address", "add": "address", "adr": "address", "tel": "telephone", "ph": "phone", "mob": "mobile",
    "no": "number", "num": "number", "nbr": "number", "nr": "number", "ref": "reference", "refno": "reference number",
    "dob": "date of birth", "d.o.b": "date of birth", "bdate": "birth date", "pc": "postcode", "pcode": "postcode",
    "pcd": "postcode", "pcds": "postcode", "zip": "postcode", "fname": "first name", "lname": "last name",
    "sname": "surname", "emp": "employee", "empl": "employee", "staffref": "staff reference", "ni": "national insurance",
    "nino": "national insurance number", "acc": "account", "acct": "account", "dept": "department",
    "lat": "latitude", "lng": "longitude", "lon": "longitude", "long": "longitude", "lts": "long term sickness",
    "e": "e", "mail": "mail", "forenames": "forename", "firstname": "first name", "lastname": "last name",
    "surname": "surname", "postcode": "postcode", "dateofbirth": "date of birth", "birthdate": "birth date",
    "emailaddress": "email", "email": "email", "sal": "salary", "cat": "category", "desc": "description",
    "id": "id", "yn": "",
    # run-together and system abbreviations (Oracle, SAP, council revenues systems, FEBRL)
    "pers": "personnel", "persno": "personnel number", "pernr": "personnel number", "empno": "employee number",
    "staffno": "staff number", "postl": "postal", "postalcode": "postcode", "zipcode": "postcode",
    "givenname": "given name", "familyname": "family name", "middlename": "middle name", "telno": "telephone number",
    "phonenumber": "phone number", "mobileno": "mobile number", "addressline": "address line", "nm": "name",
    "dt": "date", "hse": "house", "ps": "pay scale", "ssn": "social security number", "soc": "social",
    "tfn": "tax file number", "natins": "national insurance",
}

# (field, phrase regex over the normalised header, confidence); the first rule per field that
# matches gives that field's confidence. Fields not in CANONICAL_FIELDS are data categories.
RULES: list[tuple[str, str, float]] = [
    ("ni_number", r"^(national insurance( number)?|ni number|nin)$|national insurance", 0.95),
    # another country's national identity number: mapped to ni_number with a check (classify)
    ("ni_number", NATIONAL_ID, 0.9),
    ("bank_account", r"bank|sort code|account number|iban", 0.9),
    ("email", r"^(work |personal |home |contact )?e ?mail( address)?$|e ?mail", 0.95),
    ("date_of_birth", r"date of birth|birth ?date|^born$|birthday", 0.95),
    ("postcode", r"post ?code|postal code|^post code$", 0.95),
    ("lat", r"latitude", 0.95),
    # a house number in a column of its own, beside the street: part of the address
    ("house_number", r"^(street|house|building|door|property|flat)( name)? ?(number|numbers)$", 0.92),
    ("lon", r"longitude", 0.95),
    ("easting", r"easting|^x( coord(inate)?)?$|grid x", 0.9),
    ("northing", r"northing|^y( coord(inate)?)?$|grid y", 0.9),
    ("phone", r"telephone|phone|mobile|contact number|^tel", 0.95),
    ("first_name", r"^(employee |staff |person |subject |officer )?(first|"
                   r"fore|given|christian|forename)( ?names?)?$|forename", 0.95),
    ("last_name", r"^(employee |staff |person |subject |officer )?(last|sur|family)( ?names?)?$|surname|family name", 0.95),
    ("full_name", r"^(full |employee |staff |person |subject |officer |display |member |client |resident )?names?$|"
                  r"full name|name of|surname forename|forename surname|person name|employee name|staff name", 0.9),
    # any other "... Name" is a person's name unless it names a thing or someone else in the row
    ("full_name", r"^(?!.*\b(user|file|street|road|town|city|company|organi[sz]ation|org|team|department|lad|district|"
                  r"council|borough|sheet|business|place|building|house|school|employer|manager|contact|kin|"
                  r"maiden|previous|preferred|middle|job|post|course|unit|site|station|product|beat|ward|area|"
                  r"zone|sector|region|route|grade|scheme|service|country|state|county)\b).*\bnames?$", 0.85),
    ("case_district", r"(case|incident|location|offence|occurrence|crime|"
                      r"asb|event)\b.*\b(district|borough|council|local authority|lad|la|area)\b", 0.9),
    ("district", r"district|borough|council|local authority|^lad( name| code)?$|^la$|^la name$", 0.85),
    ("sickness_absence", r"sick|absence|^ill ?health|long term sickness|days lost|^lts", 0.9),
    ("sensitive_role", r"protected|sensitive|covert|undercover|restricted (post|role)|witness protection", 0.9),
    ("salary_band", r"salary|pay ?band|grade|^band$|pay scale|pay grade|spine|^scale$|^pay$", 0.9),
    ("age", r"^(current )?age( at .*| years| yrs| now)?$", 0.95),
    ("markers", r"marker|warning|vulnerab|risk flag|^flags?$|alert", 0.9),
    ("notes", r"notes?$|comment|remark|narrative|description|summary|details|observation|free text|circumstances", 0.85),
    ("case_ref", r"^(case|incident|crime|occurrence|asb|log|complaint|referral|job)( reference| number| id| ref)?( number)?$|"
                 r"^(case|incident|crime|occurrence|asb|log|complaint|"
                 r"referral|report)\b.*\b(reference|number|id)$|^urn$|^reference( number| id)?$|^ref number$|"
                 r"^rec (id|reference)$|^record reference$|"
                 r"^(claim|claimant|customer|client|application|applicant|booking|order|tenancy|tenant|account|"
                 r"resident|patient|pupil|service user)( reference| id)$", 0.9),
    ("employee_id", r"(employee|staff|person|payroll|personnel|pay|warrant|collar|force|assignment|hr|worker|member)"
                    r"\b.*\b(number|reference|id|code)$|"
                    r"^payroll|^(employee|staff|person) ?(id|ref)|^id$|^emp id$|^(employee|staff)$", 0.9),
    ("job_title", r"job|^post( title)?$|position|occupation|designation|"
                  r"^rank$|^title of post$|^(job |staff )?role( title)?$|^role$", 0.85),
    ("role", r"(subject|person|party|involvement|case|asb|"
             r"capacity)\b.*\b(role|type|involvement|category)$|^involvement$|^party type$|^role in case$|^role$", 0.9),
    ("address", r"address|street|^house|^line 1$|^residence", 0.9),
    ("town", r"\btown\b|\bcity\b|locality|^area$|^village$|^place$|^post town$|suburb", 0.85),
    ("region", r"^(state|county|province|region|territory|canton)( code| name)?$", 0.85),
    ("honorific", r"^(title|salutation|honorific|name title|courtesy title|prefix)$", 0.9),
    # data categories: personal data with no canonical field, and non-personal columns
    ("gender", r"gender|^sex$", 0.9),
    ("ethnicity", r"ethnic|race|^self defined", 0.95),
    ("religion", r"religio|belief|faith", 0.9),
    ("sexual_orientation", r"sexual|orientation", 0.95),
    ("disability", r"disab|impairment|reasonable adjust", 0.9),
    ("health", r"medical|health|condition|occupational health|fit note|diagnos", 0.9),
    ("nationality", r"nationality|citizenship|country of birth|immigration|visa|right to work", 0.9),
    ("marital_status", r"marital|civil (partner|status)", 0.9),
    ("next_of_kin", r"next of kin|emergency contact|nok", 0.9),
    ("criminal_record", r"conviction|criminal record|caution|dbs|disciplinary", 0.85),
    ("other_date", r"date|^start|^end|joined|^from$|^to$|reported|created|updated|timestamp|^when$|leav|hired", 0.7),
    # the organisation a record belongs to, when one extract holds several controllers' records
    ("controller", r"^(police )?force( name)?$|^organi[sz]ation( name)?$|^org( name)?$|^employer( name)?$|"
                   r"^(data )?controller( name)?$|^(owning|home) (force|organi[sz]ation)$", 0.9),
    ("org_unit", r"department|division|team|unit|directorate|cost cent|station|section|"
                 r"command|force$|^organi[sz]ation|^employer|^org$|location|^site$|^base$", 0.75),
    ("status", r"status|outcome|result|stage|priority|type$|category$|^type|^category", 0.7),
    ("row_number", r"^(row|line|record)( number| id)?$|^#$|^s ?no$|^serial", 0.8),
]
_COMPILED = [(f, re.compile(r), c) for f, r, c in RULES]

# Categories that are personal data about the person in the row (never leave unflagged).
PERSONAL_CATEGORIES = {"gender", "ethnicity", "religion", "sexual_orientation", "disability", "health",
                       "nationality", "marital_status", "next_of_kin", "criminal_record", "other_date",
                       "honorific", "house_number", "postcode_not_uk"}
SPECIAL_CATEGORIES = {"ethnicity", "religion", "sexual_orientation", "disability", "health", "criminal_record"}


def normalise(header: str) -> str:
    """Fold a header to lower-case words with abbreviations expanded: 'PCode' -> 'postcode',
    'Employee_No' -> 'employee number', 'Sickness Absence (Y/N)' -> 'sickness absence'."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", header.strip())
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"([A-Za-z])(\d)", r"\1 \2", text)  # "Addr1" -> "Addr 1"
    text = re.sub(r"\((y/n|y|n|yes/no)\)", " ", text, flags=re.IGNORECASE)
    text = text.lower().replace("e-mail", "email").replace("d.o.b", "dob").replace("n.i.", "ni ")
    tokens = [t for t in re.split(r"[^a-z0-9]+", text) if t]
    # "P Code", "Post Code", "E Mail" written apart, and "1" suffixes of address lines
    joined = " ".join(tokens)
    joined = re.sub(r"\bp code\b", "pcode", joined)
    joined = re.sub(r"\bpost code\b", "postcode", joined)
    joined = re.sub(r"\be mail\b", "email", joined)
    joined = re.sub(r"\bsur name\b", "surname", joined)
    joined = re.sub(r"\bfore names?\b", "forename", joined)
    joined = re.sub(r"\bni no\b", "ni number", joined)
    joined = re.sub(r"\b(l|s) name\b", lambda m: "last name" if m.group(1) == "l" else "surname", joined)
    joined = re.sub(r"\bf name\b", "first name", joined)
    out = []
    for token in joined.split():
        expanded = ABBREVIATIONS.get(token, token)
        if expanded:
            out.append(expanded)
    return " ".join(out)


def header_candidates(header: str) -> list[tuple[str, float]]:
    """Fields or categories the header suggests, most confident first (at most one per field)."""
    norm = normalise(header)
    found: dict[str, float] = {}
    for fieldname, pattern, confidence in _COMPILED:
        if fieldname not in found and pattern.search(norm):
            found[fieldname] = confidence
    # A phrase rule met earlier in the list is the more specific one: keep list order as a tie-break.
    order = {f: i for i, (f, _, _) in enumerate(RULES)}
    return sorted(found.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def address_line(header: str) -> int | None:
    """The line number of an address-line column ('Address 2', 'address_line_3'), else None."""
    m = re.search(r"(address|line)\D*(\d)$", normalise(header))
    return int(m.group(2)) if m else None
