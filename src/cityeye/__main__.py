"""``python -m cityeye`` — the same as the ``cityeye`` command."""

from cityeye.cli import app

app()
