"""``python -m riskkit``: the same command as ``riskkit``, for environments whose scripts folder
is not on PATH (a conda env not activated, a venv called by its python)."""

from riskkit.cli import main

if __name__ == "__main__":
    main()
