"""riskkit: assess personal-data breaches from the leaked extract to a leadership briefing."""

__version__ = "0.1.0"
