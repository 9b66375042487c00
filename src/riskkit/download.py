"""Fetching official LAD boundaries from the ONS Open Geography Portal (ArcGIS REST).

The repository may not ship ONS files, so riskkit fetches exactly the districts an incident
needs, where the machine has internet, and writes them where an incident file can point.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from riskkit.errors import GeographyError
from riskkit.outputs import atomic_write_text

ONS_LAD_URL = ("https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
               "Local_Authority_Districts_May_2023_UK_BGC_V2/FeatureServer/0/query")
CODE_RE = re.compile(r"^[EWSN]\d{8}$")


def download_boundaries(codes: list[str], out: Path, url: str = ONS_LAD_URL, code_field: str = "LAD23CD",
                        timeout: float = 60) -> int:
    """Query the service for ``codes`` and write a GeoJSON file; returns the feature count."""
    codes = [c.strip().upper() for c in codes]
    bad = [c for c in codes if not CODE_RE.match(c)]
    if bad:
        raise GeographyError(f"not ONS district codes: {', '.join(bad)}; codes look like E07000096.")
    where = f"{code_field} IN ({', '.join(repr(c) for c in codes)})"
    query = urllib.parse.urlencode({"where": where, "outFields": "*", "outSR": "4326", "f": "geojson"})
    try:
        with urllib.request.urlopen(f"{url}?{query}", timeout=timeout) as resp:  # noqa: S310 - URL is https or a test server
            payload = json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GeographyError(f"cannot download boundaries from {url.split('?')[0]} ({reason}); without internet, "
                             "download the LAD boundaries from geoportal.statistics.gov.uk elsewhere and set "
                             "'boundaries.path' in the incident file.") from None
    except json.JSONDecodeError:
        raise GeographyError(f"{url}: the answer is not GeoJSON; check --url.") from None
    features = payload.get("features") if isinstance(payload, dict) else None
    if not features:
        raise GeographyError(f"{url}: no boundaries returned for {', '.join(codes)}; check the codes and --code-field.")
    found = {str(f.get("properties", {}).get(code_field)) for f in features}
    missing = [c for c in codes if c not in found]
    if missing:
        raise GeographyError(f"the service has no boundary for {', '.join(missing)}; check the codes or the service year.")
    atomic_write_text(Path(out), json.dumps({"type": "FeatureCollection", "features": features}))
    return len(features)
