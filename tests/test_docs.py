"""The documentation site builds offline with no warning (MkDocs strict), the README stays
short, and the configuration page lists every setting and nothing else."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or "mkdocs"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    warnings = [line for line in res.stderr.splitlines() if "WARNING" in line]
    assert warnings == []
    return out


def test_configuration_page_lists_every_setting_and_nothing_else(site):
    page = (site / "configuration" / "index.html").read_text(encoding="utf-8")
    shown = set(re.findall(r"\bIOCMAP_[A-Z0-9_]+\b", page))
    prefix = Settings.model_config["env_prefix"]
    fields = {f"{prefix}{name.upper()}" for name in Settings.model_fields}
    assert shown == fields


def test_readme_is_short_and_names_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "make demo" in readme and "make test" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).exists(), link


def test_env_example_is_the_settings_as_generated():
    """``.env.example`` lists every setting at its default, generated from ``Settings``
    like the configuration page: a field added without regenerating it fails here."""
    from scripts.docs_hooks import env_example

    root = Path(__file__).parents[1]
    assert (root / ".env.example").read_text(encoding="utf-8") == env_example(), (
        "run: python -m scripts.docs_hooks > .env.example"
    )
    prefix = Settings.model_config["env_prefix"]
    listed = set(re.findall(r"^# (IOCMAP_[A-Z0-9_]+)=", env_example(), re.M))
    assert {f"{prefix}{n.upper()}" for n in Settings.model_fields} <= listed
