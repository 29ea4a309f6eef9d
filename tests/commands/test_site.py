"""``clu-doctor site init`` and ``clu-doctor docs`` as a user runs them (on the virtual clock)."""

from __future__ import annotations

from pathlib import Path

from clu_doctor.resources import docs_dir, monitoring_dir
from clu_doctor.site.reader import load_site
from tests.commands.helpers import invoke


def test_init_prints_a_site_file_that_loads(tmp_path: Path) -> None:
    result = invoke("site", "init", "--name", "Garage B")
    assert result.code == 0
    (tmp_path / "site.yaml").write_text(result.stdout, encoding="utf-8")
    site = load_site(tmp_path / "site.yaml")
    assert site.name == "Garage B"
    assert "clu-doctor check --site" in result.stdout


def test_init_from_a_polling_clu_takes_the_addresses_it_polls(tmp_path: Path) -> None:
    out = tmp_path / "site.yaml"
    result = invoke("site", "init", "--sim", "cable-break", "--seconds", "8", "-o", str(out))
    assert result.code == 0, result.stderr
    assert "wrote" in result.stderr and "12 stations from the bus" in result.stderr
    site = load_site(out)
    assert [s.address for s in site.chain] == list(range(1, 13))
    text = out.read_text(encoding="utf-8")
    assert text.count("polled by the CLU, answered") == 6
    assert text.count("but SILENT") == 6  # 7-12, beyond the break
    assert "Filled in from a listen of simulated site cable-break" in text
    assert "port:" not in text.replace("# port:", "")  # a simulated site has no port to keep


def test_init_on_a_quiet_bus_reads_every_address_with_identities(tmp_path: Path) -> None:
    result = invoke("site", "init", "--sim", "healthy-16?clu=0", "--seconds", "3")
    assert result.code == 0, result.stderr
    assert "Filled in from a scan" in result.stdout
    assert result.stdout.count("# answered, serial ") == 16


def test_init_when_nothing_decodes_says_so_and_writes_nothing(tmp_path: Path) -> None:
    """The technician's adapter stuck at 9600 8N1 on a 38400 8E1 bus: bytes, no frames."""
    out = tmp_path / "site.yaml"
    result = invoke(
        "site", "init", "--sim", "wrong-adapter-settings", "--seconds", "5", "-o", str(out)
    )
    assert result.code == 3
    assert "bytes heard in 5 s, but not one frame decodes" in result.stderr
    assert "A goes to A and B to B" in result.stderr and "38400 8E1" in result.stderr
    assert not out.exists()


def test_init_never_overwrites_a_site_file_unasked(tmp_path: Path) -> None:
    out = tmp_path / "site.yaml"
    out.write_text("name: mine\n", encoding="utf-8")
    refused = invoke("site", "init", "-o", str(out))
    assert refused.code == 3 and "exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "name: mine\n"
    assert invoke("site", "init", "-o", str(out), "--force").code == 0
    assert out.read_text(encoding="utf-8").startswith("# site.yaml")


def test_init_from_a_bus_without_stations_says_so() -> None:
    result = invoke("site", "init", "--sim", "clu-usb-dead", "--seconds", "2", "--transmit")
    # The dead USB interface: no polls, but the stations answer the tool's reads.
    assert result.code == 0, result.stderr
    assert "answered, serial" in result.stdout


def test_docs_lists_every_guide_and_monitoring_file_and_prints_one() -> None:
    listing = invoke("docs")
    assert listing.code == 0
    for topic in ("monitoring", "simulator", "rules-format", "alerts", "grafana-dashboard"):
        assert topic in listing.stdout
    shown = invoke("docs", "monitoring")
    assert shown.stdout == (docs_dir() / "monitoring.md").read_text(encoding="utf-8")
    path = invoke("docs", "alerts", "--path")
    assert path.stdout.strip() == str(monitoring_dir() / "alerts.yml")
    wrong = invoke("docs", "monitorin")
    assert wrong.code == 3 and "did you mean 'monitoring'" in wrong.stderr
