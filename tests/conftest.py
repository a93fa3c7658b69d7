"""Shared fixtures: paths to the small real data cut from the registry datasets."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def firth_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty cache, so no test touches the user's or the network."""
    home = tmp_path / "firth-home"
    monkeypatch.setenv("FIRTH_HOME", str(home))
    return home
