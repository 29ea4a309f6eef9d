"""Atomic textfile writes: a reader (node_exporter) never sees a half-written file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from clu_doctor.monitoring import textfile
from clu_doctor.monitoring.textfile import TextfileError, site_slug, textfile_name, write_atomic

REPO = Path(__file__).resolve().parents[2]


def metrics(version: int, padding: int = 0) -> str:
    lines = [
        "# HELP clu_doctor_test_version Which version of the file this is.",
        "# TYPE clu_doctor_test_version gauge",
        f'clu_doctor_test_version{{site="s"}} {version}',
    ]
    lines += [f'clu_doctor_test_padding{{n="{n}"}} {n}' for n in range(padding)]
    return "\n".join(lines) + "\n"


def parsed_version(path: Path) -> float:
    families = {f.name: f for f in text_string_to_metric_families(path.read_text("utf-8"))}
    return families["clu_doctor_test_version"].samples[0].value


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(
    ("site", "slug"),
    [
        ("Solsiden borettslag, garage B", "solsiden_borettslag_garage_b"),
        ("Bjørvika P-hus / nivå 2", "bjorvika_p_hus_niva_2"),
        ("../../etc/passwd", "etc_passwd"),
        ("***", "site"),
        ("Åsane", "asane"),
    ],
)
def test_site_names_become_safe_file_names(site: str, slug: str) -> None:
    assert site_slug(site) == slug
    assert textfile_name(site) == f"clu_doctor_{slug}.prom"


def test_write_replaces_the_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "other.prom").write_text("other 1\n")
    path = write_atomic(tmp_path, "clu_doctor_s.prom", metrics(1))
    assert path == tmp_path / "clu_doctor_s.prom"
    assert parsed_version(path) == 1
    write_atomic(tmp_path, "clu_doctor_s.prom", metrics(2))
    assert parsed_version(path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clu_doctor_s.prom", "other.prom"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TextfileError) as caught:
        write_atomic(tmp_path / "nope", "x.prom", "x 1\n")
    assert str(caught.value) == f"textfile directory {tmp_path / 'nope'} does not exist"
    assert caught.value.hint is not None
    assert "--textfile-dir" in caught.value.hint
    assert caught.value.exit_code == 3


def test_a_file_in_place_of_the_directory_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(TextfileError, match="is not a directory"):
        write_atomic(tmp_path / "file", "x.prom", "x 1\n")


def test_permission_denied_is_one_clear_error_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which no file mode stops: fail the rename instead.
    def refuse(src: str, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(TextfileError) as caught:
        write_atomic(tmp_path, "x.prom", "x 1\n")
    assert str(caught.value) == f"cannot write {tmp_path / 'x.prom'}: permission denied"
    assert caught.value.hint is not None
    assert leftovers(tmp_path) == []


def test_a_full_disk_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: memoryview) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(textfile, "_write_chunk", full)
    with pytest.raises(TextfileError, match=r"x\.prom: No space left on device$"):
        write_atomic(tmp_path, "x.prom", "x 1\n")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["", ".hidden.prom", "a/b.prom"])
def test_only_plain_file_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        write_atomic(tmp_path, name, "")


def test_temporary_files_of_live_writers_are_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / f".clu_doctor_s.prom.{os.getpid()}.abcdefgh.tmp"
    mine.write_text("in progress")
    parent = tmp_path / f".clu_doctor_s.prom.{os.getppid()}.abcdefgh.tmp"
    parent.write_text("in progress")
    write_atomic(tmp_path, "clu_doctor_s.prom", metrics(1))
    assert mine.exists()
    assert parent.exists()
