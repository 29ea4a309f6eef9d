"""``site init``'s template: every variant is a valid site file, and says what was heard."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.site.reader import parse_site
from clu_doctor.site.template import FoundStation, TemplateFacts, site_template
from clu_doctor.yamlio import load_yaml_text


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_site(load_yaml_text(text, "site.yaml"), "site.yaml")


def test_the_blank_template_is_a_valid_site_with_one_station_to_replace() -> None:
    text = site_template()
    site = parse(text)
    assert site.name == "New site"
    assert [s.address for s in site.chain] == [1]
    assert site.thresholds.silent_bus.critical == 4
    assert "Replace this line with one line per station" in text
    for key in ("cable_m", "site_current_a", "meters", "port", "ignore", "line"):
        assert f"# {key}:" in text  # explained, commented out


def test_stations_heard_fill_the_chain_in_address_order_with_what_was_heard() -> None:
    found = [
        FoundStation(7, polled=True),
        FoundStation(2, polled=True, answered=True, state="A1"),
        FoundStation(3, answered=True, serial="DF230103"),
    ]
    facts = TemplateFacts(
        name="Solsiden: garage B", port="/dev/ttyUSB0", line="9600 8N1", heard_on="/dev/ttyUSB0"
    )
    text = site_template(found, facts)
    site = parse(text)
    assert site.name == "Solsiden: garage B"
    assert site.port == "/dev/ttyUSB0"
    assert str(site.line_settings) == "9600 8N1"
    assert [(s.address, s.label) for s in site.chain] == [
        (2, "XAXXY02"),
        (3, "XAXXY03"),
        (7, "XAXXY07"),
    ]
    assert "# polled by the CLU, answered, state A1" in text
    assert "# answered, serial DF230103" in text
    assert "# polled by the CLU, but SILENT" in text
    assert "Filled in from a listen of /dev/ttyUSB0" in text


@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.isprintable()))
def test_any_site_name_reads_back_as_written(name: str) -> None:
    assert parse(site_template(facts=TemplateFacts(name=name))).name == name
