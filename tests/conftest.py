"""Shared fixtures: one generated data set per test session."""

from pathlib import Path

import pytest

from resnets_utils import data, settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory) -> Path:
    """A folder holding the course's generated train and test files (read-only use)."""
    directory = tmp_path_factory.mktemp("signs")
    data.write_generated_dataset(directory)
    return directory


@pytest.fixture(scope="session")
def generated(generated_dir):
    """``load_dataset`` on the generated files."""
    return data.load_dataset(generated_dir)


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path, monkeypatch):
    """Keep every test away from the user's real cache and data directory."""
    monkeypatch.setenv(settings.CACHE_HOME, str(tmp_path / "cache"))
    monkeypatch.delenv(settings.DATA_DIR, raising=False)
