"""Alembic migrations for the breach register (run automatically when a register is opened)."""
