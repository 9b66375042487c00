"""Everything about the package is in pyproject.toml; this file adds one build step.

The analysts' notebooks live at the top of the repository (``notebooks/``, where they open them in
JupyterLab and where nbval tests them), outside the ``src/riskkit`` package. A wheel must carry
them, because ``riskkit assess`` runs the briefing notebook: this step copies ``notebooks/*.ipynb``
into the built package as ``riskkit/notebooks/``, where ``riskkit.paths`` finds them with
importlib.resources. One copy in git, no second copy to keep in step; an editable install (or
PYTHONPATH=src) reads ``notebooks/`` in place. MANIFEST.in puts the notebooks in the sdist.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


class BuildPyWithNotebooks(build_py):
    """build_py, plus the notebooks copied into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds notebooks/ through the checkout
        found = sorted(NOTEBOOKS.glob("*.ipynb"))
        if not found:
            raise SystemExit(f"{NOTEBOOKS}: no notebooks to ship; build from a checkout or an sdist of riskkit.")
        target = Path(self.build_lib) / "riskkit" / "notebooks"
        self.mkpath(str(target))
        for notebook in found:
            self.copy_file(str(notebook), str(target / notebook.name))


setup(cmdclass={"build_py": BuildPyWithNotebooks})
