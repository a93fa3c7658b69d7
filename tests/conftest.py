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


@pytest.fixture
def cli(capsys):
    """Run `firth ARGV...` in-process: (exit code, stdout, stderr)."""
    from firth.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run
