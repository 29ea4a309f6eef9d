"""The bundled rulebook is cached once validated; the cache must never serve stale rules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clu_doctor import resources
from clu_doctor.engine import AnswerSource, load_rulebook
from clu_doctor.engine import load as load_module
from clu_doctor.engine import rulebook as rulebook_module
from clu_doctor.errors import FileProblemError

BUNDLED = resources.rules_dir()


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the bundled rules standing in for them, and a private cache."""
    copy = tmp_path / "rules"
    shutil.copytree(BUNDLED, copy)
    monkeypatch.setattr(resources, "rules_dir", lambda: copy)
    # The user's cache, not the rulebook shipped with the package (tested on its own below).
    monkeypatch.setattr(resources, "shipped_rulebook", lambda: tmp_path / "none.pickle")
    monkeypatch.setattr(resources, "shipped_translation", lambda code: tmp_path / f"none-{code}")
    # These tests are about the cache on disk: skip the once-per-process memo in front of it.
    monkeypatch.setattr(rulebook_module, "_bundled", rulebook_module._load_cached)
    monkeypatch.setattr(
        rulebook_module,
        "_bundled_translation",
        lambda code: rulebook_module._kept_translation(copy, code),
    )
    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLU_DOCTOR_NO_CACHE", raising=False)
    return copy


def cache_files(rules: Path) -> list[Path]:
    return sorted((rules.parent / "cache").glob("*.pickle"))


def forbid_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the rule files were read although the cache is valid")

    monkeypatch.setattr(load_module, "read_tree", refuse)
    monkeypatch.setattr(load_module, "read_vocabulary", refuse)


def test_second_load_comes_from_the_cache(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_rulebook()
    assert len(cache_files(rules)) == 1
    forbid_yaml(monkeypatch)
    second = load_rulebook()
    assert second.findings == first.findings
    assert [t.id for t in second.trees] == [t.id for t in first.trees]
    assert second.vocabulary.specs == first.vocabulary.specs
    answers = {"clu.power_led": "off", "clu.status_led": "off"}
    for rulebook in (first, second):
        observed = {
            k: rulebook.vocabulary.parse(k, v, AnswerSource.FLAG) for k, v in answers.items()
        }
        assert rulebook.diagnose(observed).finding_ids == {"CLU-PWR-01", "USB-CLU-01"}


def test_an_edited_rule_file_misses_the_cache(rules: Path) -> None:
    load_rulebook()
    tree = rules / "trees" / "10-clu-leds.yaml"
    tree.write_text(
        tree.read_text(encoding="utf-8").replace(
            "title: The CLU has no power", "title: The CLU has no power at all"
        ),
        encoding="utf-8",
    )
    assert load_rulebook().findings["CLU-PWR-01"].title == "The CLU has no power at all"


def test_an_added_tree_misses_the_cache_and_only_yaml_files_count(rules: Path) -> None:
    """The trees are listed as ``trees/*.yaml`` (in name order), checked on every run."""
    load_rulebook()
    trees = rules / "trees"
    (trees / "notes.txt").write_text("not a tree", encoding="utf-8")
    (trees / "10-clu-leds.yaml.orig").write_text("not a tree either", encoding="utf-8")
    assert [t.id for t in load_rulebook().trees] == [t.id for t in load_rulebook(fresh=True).trees]
    (trees / "00-broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(FileProblemError) as raised:
        load_rulebook()
    assert "00-broken.yaml" in str(raised.value.problems[0])


def test_broken_rules_are_reported_not_served_from_the_cache(rules: Path) -> None:
    load_rulebook()
    tree = rules / "trees" / "20-usb-leds.yaml"
    tree.write_text(
        tree.read_text(encoding="utf-8").replace("goto: finding:USB-BUS-01", "goto: nowhere"),
        encoding="utf-8",
    )
    with pytest.raises(FileProblemError, match="goes to node 'nowhere', which does not exist"):
        load_rulebook()


def test_a_damaged_cache_is_ignored_and_rewritten(rules: Path) -> None:
    load_rulebook()
    [cached] = cache_files(rules)
    cached.write_bytes(b"not a pickle")
    assert "CLU-PWR-01" in load_rulebook().findings
    assert cached.read_bytes() != b"not a pickle"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_cache_others_can_write_is_not_trusted(
    rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_rulebook()
    [cached] = cache_files(rules)
    cached.chmod(0o666)
    read_again: list[Path] = []
    original = load_module.read_vocabulary

    def spy(path: Path) -> object:
        read_again.append(path)
        return original(path)

    monkeypatch.setattr(load_module, "read_vocabulary", spy)
    load_rulebook()
    assert read_again == [rules / "observations.yaml"]
    assert cached.stat().st_mode & 0o777 == 0o600  # replaced by a private copy


def test_the_cache_can_be_turned_off(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLU_DOCTOR_NO_CACHE", "1")
    load_rulebook()
    assert cache_files(rules) == []


def test_a_cached_diagnosis_imports_no_yaml_typer_rich_or_serial(tmp_path: Path) -> None:
    """The start-up budget: with a warm cache the engine needs none of the heavy libraries."""
    env = {**os.environ, "CLU_DOCTOR_CACHE_DIR": str(tmp_path)}
    env.pop("CLU_DOCTOR_NO_CACHE", None)
    script = (
        "import sys, pathlib; import clu_doctor.resources as r; "
        "r.shipped_rulebook = lambda: pathlib.Path('/nonexistent/rulebook.pickle'); "
        "from clu_doctor.engine import load_rulebook; "
        "load_rulebook().diagnose({}).to_dict(); "
        "print(sorted(m for m in ('yaml', 'typer', 'rich', 'serial') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    run = [sys.executable, "-c", script]
    warm = subprocess.run(run, env=env, cwd=root, capture_output=True, text=True, check=True)
    assert warm.stdout.strip() == "['yaml']"  # the first run validates the YAML
    cached = subprocess.run(run, env=env, cwd=root, capture_output=True, text=True, check=True)
    assert cached.stdout.strip() == "[]"


# --- a cache that cannot be used never fails a run ---------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        "/dev/null",  # a path running through a file
        "/dev/null/deeper",
        # a directory nobody may write: tests/live/test_read_only_home.py, as an unprivileged
        # user (root writes anyway, so it cannot be shown in-process under CI's root)
        "a-file",  # the cache "directory" is a file
    ],
)
def test_an_unusable_cache_directory_loads_the_rules_and_says_nothing(
    rules: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    folder = Path(where)
    if where == "a-file":
        folder = rules.parent / "cache"
        folder.write_text("not a directory")
    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", str(folder))
    for _ in range(2):  # a cold cache, then the "cached" run, which finds nothing either
        assert "CLU-PWR-01" in load_rulebook().findings
    assert capsys.readouterr() == ("", "")


def test_debug_says_why_the_cache_was_not_used(
    rules: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from clu_doctor import debuglog

    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", "/dev/null")
    monkeypatch.setattr(debuglog, "enabled", True)
    load_rulebook()
    err = capsys.readouterr().err
    assert "clu-doctor: debug: rulebook cache /dev/null/rulebook-" in err
    assert "not written" in err


@pytest.mark.parametrize(
    "command",
    [
        ["diagnose", "-o", "clu.power_led=off", "-o", "clu.status_led=off", "--no-input"],
        ["rules", "check"],
    ],
)
def test_commands_run_with_the_cache_pointing_through_a_file(command: list[str]) -> None:
    """The user's report: CLU_DOCTOR_CACHE_DIR=/dev/null made every diagnose, check and rules
    check exit 3."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "CLU_DOCTOR_CACHE_DIR": "/dev/null", "NO_COLOR": "1"}
    env.pop("CLU_DOCTOR_NO_CACHE", None)
    result = subprocess.run(
        [sys.executable, "-m", "clu_doctor", *command],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "error" not in result.stderr, result.stderr
    if command[0] == "diagnose":
        assert "CLU-PWR-01" in result.stdout and result.returncode == 2, result.stdout
    else:
        assert result.returncode == 0, result.stdout


# --- the rulebook shipped with the package -----------------------------------------------------


def test_the_shipped_rulebook_needs_no_yaml_and_no_cache(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run (empty cache: a new user, an upgrade, cron under another HOME) starts from
    the rulebook validated when the package was built."""
    shipped = tmp_path / "shipped" / "rulebook.pickle"
    built = rulebook_module.build_shipped(shipped, rules)
    monkeypatch.setattr(resources, "shipped_rulebook", lambda: shipped)
    forbid_yaml(monkeypatch)
    loaded = load_rulebook()
    assert sorted(loaded.findings) == sorted(built.findings)
    assert cache_files(rules) == []
    assert shipped.stat().st_mode & 0o777 == 0o644


def test_rules_that_differ_from_the_shipped_rulebook_are_read(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "shipped" / "rulebook.pickle"
    rulebook_module.build_shipped(shipped, rules)
    monkeypatch.setattr(resources, "shipped_rulebook", lambda: shipped)
    tree = rules / "trees" / "10-clu-leds.yaml"
    tree.write_text(
        tree.read_text(encoding="utf-8").replace(
            "title: The CLU has no power", "title: The CLU has no power at all"
        ),
        encoding="utf-8",
    )
    assert load_rulebook().findings["CLU-PWR-01"].title == "The CLU has no power at all"
    assert len(cache_files(rules)) == 1


def test_invalid_rules_are_never_shipped(rules: Path, tmp_path: Path) -> None:
    tree = rules / "trees" / "20-usb-leds.yaml"
    tree.write_text(
        tree.read_text(encoding="utf-8").replace("goto: finding:USB-BUS-01", "goto: nowhere"),
        encoding="utf-8",
    )
    shipped = tmp_path / "shipped" / "rulebook.pickle"
    with pytest.raises(FileProblemError, match="'nowhere', which does not exist"):
        rulebook_module.build_shipped(shipped, rules)
    assert not shipped.exists()


def test_rules_check_validates_the_files_not_what_was_kept(
    rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.commands.helpers import invoke

    load_rulebook()  # cached
    read: list[Path] = []
    original = load_module.read_vocabulary

    def spy(path: Path) -> object:
        read.append(path)
        return original(path)

    monkeypatch.setattr(load_module, "read_vocabulary", spy)
    assert invoke("rules", "check").code == 0
    assert read == [rules / "observations.yaml"]


# --- --rules DIR is cached too, keyed on its content -------------------------------------------


def test_a_rules_directory_is_cached_on_its_content(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "own-rules"
    shutil.copytree(rules, own)
    first = load_rulebook(own)
    assert len(cache_files(rules)) == 1
    with monkeypatch.context() as patched:
        forbid_yaml(patched)
        assert sorted(load_rulebook(own).findings) == sorted(first.findings)
    tree = own / "trees" / "10-clu-leds.yaml"
    tree.write_text(
        tree.read_text(encoding="utf-8").replace(
            "title: The CLU has no power", "title: No power reaches the CLU"
        ),
        encoding="utf-8",
    )
    assert load_rulebook(own).findings["CLU-PWR-01"].title == "No power reaches the CLU"


# --- the rules in another language: kept translated, as the English ones are kept ---------------


def forbid_translating(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the rule files nor a catalogue may be read, nor the rulebook translated."""
    from clu_doctor import pofile
    from clu_doctor.engine import texts

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("translated again although a kept translation stands for it")

    forbid_yaml(monkeypatch)
    monkeypatch.setattr(pofile, "parse", refuse)
    monkeypatch.setattr(texts, "translate", refuse)


def texts_of(rulebook: rulebook_module.Rulebook) -> tuple[object, ...]:
    return (
        rulebook.language,
        dict(rulebook.untranslated),
        rulebook.findings,
        rulebook.vocabulary.specs,
        rulebook.vocabulary.groups,
        dict(rulebook.layers),
    )


def test_the_translations_shipped_with_the_package_need_no_catalogue(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run in Norwegian (empty cache) starts from the rulebook translated when the
    package was built, the same as translating it then."""
    made_now = {code: load_rulebook(fresh=True, language=code) for code in ("nb", "sv", "fi")}
    english = load_rulebook(fresh=True).findings["CLU-PWR-01"].title
    shipped = tmp_path / "shipped"
    written = rulebook_module.build_shipped_translations(shipped, rules)
    assert sorted(path.name for path in written) == [
        "rulebook-fi.pickle",
        "rulebook-nb.pickle",
        "rulebook-sv.pickle",
    ]
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in written)
    monkeypatch.setattr(
        resources, "shipped_translation", lambda code: shipped / f"rulebook-{code}.pickle"
    )
    forbid_translating(monkeypatch)
    for code, expected in made_now.items():
        kept = load_rulebook(language=code)
        assert texts_of(kept) == texts_of(expected), code
        assert kept.findings["CLU-PWR-01"].title != english
    assert cache_files(rules) == []


def test_an_edited_catalogue_misses_the_shipped_translation_and_is_kept(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "shipped"
    rulebook_module.build_shipped_translations(shipped, rules)
    monkeypatch.setattr(
        resources, "shipped_translation", lambda code: shipped / f"rulebook-{code}.pickle"
    )
    catalogue = rules / "locale" / "nb.po"
    title = load_rulebook(language="nb").findings["CLU-PWR-01"].title
    catalogue.write_text(
        catalogue.read_text(encoding="utf-8").replace(f'msgstr "{title}"', 'msgstr "Ingen strøm"'),
        encoding="utf-8",
    )
    assert load_rulebook(language="nb").findings["CLU-PWR-01"].title == "Ingen strøm"
    # kept: the English rulebook it was made from, and the Norwegian one
    assert sorted(path.name.endswith("-nb.pickle") for path in cache_files(rules)) == [False, True]
    with monkeypatch.context() as patched:
        forbid_translating(patched)
        assert load_rulebook(language="nb").findings["CLU-PWR-01"].title == "Ingen strøm"


def test_an_edited_rule_file_misses_the_kept_translation(rules: Path) -> None:
    load_rulebook(language="sv")
    tree = rules / "trees" / "10-clu-leds.yaml"
    tree.write_text(
        tree.read_text(encoding="utf-8").replace(
            "title: The CLU has no power", "title: The CLU has no power at all"
        ),
        encoding="utf-8",
    )
    swedish = load_rulebook(language="sv")
    # the English text changed, so its translation is stale: English, and said so
    assert swedish.findings["CLU-PWR-01"].title == "The CLU has no power at all"
    assert swedish.untranslated_findings()["CLU-PWR-01"] == "stale"


def test_a_rules_directory_in_another_language_is_kept_on_its_catalogue_too(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "own-rules"
    shutil.copytree(rules, own)
    first = load_rulebook(own, language="fi")
    assert first.language == "fi"
    with monkeypatch.context() as patched:
        forbid_translating(patched)
        assert texts_of(load_rulebook(own, language="fi")) == texts_of(first)
    catalogue = own / "locale" / "fi.po"
    title = first.findings["CLU-PWR-01"].title
    catalogue.write_text(
        catalogue.read_text(encoding="utf-8").replace(f'msgstr "{title}"', 'msgstr "Ei virtaa"'),
        encoding="utf-8",
    )
    assert load_rulebook(own, language="fi").findings["CLU-PWR-01"].title == "Ei virtaa"
    catalogue.unlink()  # then the bundled catalogue translates it
    assert load_rulebook(own, language="fi").findings["CLU-PWR-01"].title == title
