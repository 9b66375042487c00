"""``riskkit notebooks``: riskkit's notebooks copied out of the installed package, so an analyst
can open them in JupyterLab (or run them with papermill) from a folder of their own.

The package's copies stay untouched: they are what ``riskkit assess`` runs. A copy never
overwrites an analyst's notebook unless asked (an executed notebook holds their work and, for
explore, personal data), and the folder it creates is owner-only for the same reason.
"""

from __future__ import annotations

from pathlib import Path

from riskkit.errors import OutputError
from riskkit.outputs import atomic_write_bytes
from riskkit.paths import NOTEBOOKS_DIR


def shipped_notebooks() -> list[Path]:
    """The notebooks riskkit ships (briefing, explore), from the package or the checkout."""
    found = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    if not found:
        raise OutputError(f"{NOTEBOOKS_DIR}: no notebooks found; reinstall riskkit (pip install --force-reinstall riskkit).")
    return found


def copy_notebooks(out: Path, force: bool = False) -> list[Path]:
    """Copy every shipped notebook into ``out``; refuse, before writing anything, if one is
    already there and ``force`` is not set. Returns the files written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file, not a folder; give a folder for the notebooks.")
    sources = shipped_notebooks()
    targets = [out / src.name for src in sources]
    if not force:
        taken = [t for t in targets if t.exists()]
        if taken:
            raise OutputError(f"{taken[0]}: already exists ({len(taken)} of {len(targets)} notebooks are there); "
                              "give --force to overwrite them, or another --out.")
    return [atomic_write_bytes(target, src.read_bytes(), mode=0o600) for src, target in zip(sources, targets, strict=True)]
