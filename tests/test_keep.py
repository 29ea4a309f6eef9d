"""What is slow to parse is kept for the next run, and never trusted beyond what it was made
from: the site file and the device profile a check reads every few minutes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clu_doctor import keep, yamlio
from clu_doctor.bus.profile import load_profile, read_profile
from clu_doctor.errors import FileProblemError
from clu_doctor.resources import profiles_dir
from clu_doctor.site.reader import load_site

SITE = """\
name: Kept site
chain:
  - {address: 1, model: UNO, label: XAXXY01}
  - {address: 2, model: UNO, label: XAXXY02}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", str(folder))
    monkeypatch.delenv("CLU_DOCTOR_NO_CACHE", raising=False)
    return folder


def site_file(tmp_path: Path, text: str = SITE) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every YAML text parsed from now on, by name."""
    from clu_doctor.site import reader

    seen: list[str] = []
    real = yamlio.load_yaml_text

    def counting(text: str, source: str = "<text>") -> object:
        seen.append(source)
        return real(text, source)

    monkeypatch.setattr(reader, "load_yaml_text", counting)
    return seen


def test_a_site_read_again_is_not_parsed_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = site_file(tmp_path)
    seen = parses(monkeypatch)
    first = load_site(path)
    again = load_site(path)
    assert again == first and again.name == "Kept site"
    assert again.path == str(path)
    assert seen == [str(path)]
    assert [p.name for p in cache.iterdir()] == [f.name for f in cache.glob("site-*.pickle")]


def test_an_edited_site_is_read_as_edited_even_at_the_same_size(
    cache: Path, tmp_path: Path
) -> None:
    path = site_file(tmp_path)
    assert load_site(path).chain[1].label == "XAXXY02"
    path.write_text(SITE.replace("XAXXY02", "XAXXY03"), encoding="utf-8")
    assert load_site(path).chain[1].label == "XAXXY03"


def test_a_site_with_problems_is_reported_on_every_run(cache: Path, tmp_path: Path) -> None:
    path = site_file(tmp_path, SITE.replace("model: UNO", "model: ONU", 1))
    for _ in range(2):
        with pytest.raises(FileProblemError, match="ONU"):
            load_site(path)
    assert not list(cache.glob("site-*.pickle"))


def test_a_site_naming_a_profile_file_checks_that_file_on_every_run(
    cache: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "mine.yaml"
    profile.write_bytes((profiles_dir() / "defa-erange.yaml").read_bytes())
    path = site_file(tmp_path, SITE + "profile: mine.yaml\n")
    assert load_site(path).profile == "mine.yaml"
    profile.unlink()
    with pytest.raises(FileProblemError, match=r"profile file .mine\.yaml. not found"):
        load_site(path)


def test_a_kept_file_others_can_write_is_not_trusted(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = site_file(tmp_path)
    load_site(path)
    (kept,) = cache.glob("site-*.pickle")
    os.chmod(kept, 0o666)
    seen = parses(monkeypatch)
    load_site(path)
    assert seen == [str(path)]


def test_a_damaged_kept_file_is_parsed_anew_and_rewritten(cache: Path, tmp_path: Path) -> None:
    path = site_file(tmp_path)
    first = load_site(path)
    (kept,) = cache.glob("site-*.pickle")
    kept.write_bytes(b"not a pickle")
    assert load_site(path) == first
    assert kept.read_bytes() != b"not a pickle"


def test_nothing_is_kept_when_keeping_is_off_or_impossible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = site_file(tmp_path)
    monkeypatch.setenv("CLU_DOCTOR_NO_CACHE", "1")
    assert load_site(path).name == "Kept site"
    monkeypatch.delenv("CLU_DOCTOR_NO_CACHE")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", str(blocker / "cache"))
    assert load_site(path).name == "Kept site"


def test_a_kept_profile_is_the_profile_with_its_read_only_tables(cache: Path) -> None:
    for name in ("defa-erange", "defa-evcc1", "modbus-meter"):
        parsed = load_profile(name)
        kept = load_profile(name)
        assert kept == parsed and kept.path == parsed.path
        with pytest.raises(TypeError):
            kept.states[0] = None  # type: ignore[index]
    assert len(list(cache.glob("profile-*.pickle"))) == 3


def test_an_edited_profile_file_is_read_as_edited(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    text = (profiles_dir() / "defa-erange.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    title = read_profile(path).title
    path.write_text(text.replace(f"title: {title}", "title: My own"), encoding="utf-8")
    assert read_profile(path).title == "My own"


def test_a_check_that_read_its_files_before_imports_no_yaml(tmp_path: Path) -> None:
    """Every check reads the same site file and profile: from the second on, without PyYAML."""
    path = site_file(tmp_path)
    code = (
        "import sys, io, contextlib\n"
        "from clu_doctor.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    try: run(['check', '--site', {str(path)!r}, '--port', {str(tmp_path / 'none')!r},"
        " '--no-history', '--format', 'nagios'])\n"
        "    except SystemExit: pass\n"
        "print('yaml' in sys.modules)\n"
    )
    env = {**os.environ, "CLU_DOCTOR_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CLU_DOCTOR_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["True"], ["False"]]


def test_without_the_reading_code_to_key_on_nothing_is_kept(cache: Path, tmp_path: Path) -> None:
    """A module file that cannot be read (a zipped install, a removed file) leaves nothing to
    tell a stale copy by: the file is parsed, and nothing is kept."""
    gone = str(tmp_path / "gone.py")
    assert keep.parsed(tmp_path / "x", "text", lambda: 1, kind="thing", code=(gone,)) == 1
    assert keep.parsed(tmp_path / "x", "text", lambda: 2, kind="thing", code=(gone,)) == 2
    assert not list(cache.glob("thing-*.pickle"))


def test_what_the_parse_raises_is_raised_and_nothing_kept(cache: Path, tmp_path: Path) -> None:
    def broken() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        keep.parsed(tmp_path / "x", "text", broken, kind="thing", code=(keep.__file__,))
    assert keep.parsed(tmp_path / "x", "text", lambda: 1, kind="thing", code=()) == 1
    assert keep.parsed(tmp_path / "x", "text", broken, kind="thing", code=()) == 1
