"""Run a test module on both database backends.

A module that imports :func:`on_both_backends` (``from tests.backends import on_both_backends``)
replaces the ``backend`` fixture of ``tests/conftest.py`` with this parametrised one: each of its
tests that uses a database (``database_url``, ``world``) runs once on SQLite and once on
PostgreSQL.
"""

from __future__ import annotations

import pytest

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS, name="backend")
def on_both_backends(request: pytest.FixtureRequest) -> str:
    return str(request.param)
