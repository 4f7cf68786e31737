"""The run's form, loaded once per process (and its forked workers) while its yaml files are unchanged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipeline.run.forms import loaded_form

REPO = Path(__file__).resolve().parents[1]


def test_loaded_once_and_again_when_a_yaml_file_changes(tmp_path):
    folder = tmp_path / "renewal"
    shutil.copytree(REPO / "forms" / "renewal", folder)
    first = loaded_form(folder)
    assert loaded_form(str(folder)) is first  # by the resolved folder, whatever way it is named
    assert loaded_form(tmp_path / "." / "renewal") is first
    form_yaml = folder / "form.yaml"
    form_yaml.write_text(form_yaml.read_text(encoding="utf-8").replace("title:", "title: 改", 1), encoding="utf-8")
    stat = form_yaml.stat()
    os.utime(form_yaml, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = loaded_form(folder)
    assert again is not first
    assert again.title != first.title and again.title.startswith("改")
