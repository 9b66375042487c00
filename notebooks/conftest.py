"""nbval runs the notebooks without parameters; they have no default incident (a forgotten
``-p incident`` must never assess the sample), so name the sample here, for these tests only."""

import os
from pathlib import Path

os.environ.setdefault("RISKKIT_INCIDENT", str(Path(__file__).resolve().parents[1] / "data" / "sample"
                                              / "asb_publication" / "incident.yml"))
