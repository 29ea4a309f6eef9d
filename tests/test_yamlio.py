"""The one located reader every file type uses, and the loader beneath it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError
from clu_doctor.yamlio import Reader, YamlMap, load_yaml_text, where_of
from tests.commands.helpers import REPO

TEXT = """\
name: pump house
port: 3
cable_m: -2
current_a: 0
retries: 1.5
present: yes
adapter: middle
line: fast
colour: red
nested: [1, 2]
"""


def reader_of(text: str = TEXT) -> tuple[Reader, YamlMap]:
    data = load_yaml_text(text, "f.yaml")
    assert isinstance(data, YamlMap)
    return Reader("f.yaml"), data


def problems(reader: Reader) -> list[str]:
    return [str(problem) for problem in reader.problems]


def test_values_come_back_typed_and_absent_keys_are_no_problem() -> None:
    reader, node = reader_of("name: ' pump house '\ncable_m: 12\nretries: 2\npresent: true\n")
    assert reader.text(node, "name") == "pump house"
    assert reader.number(node, "cable_m", low=0) == 12.0
    assert reader.integer(node, "retries", low=0, high=10) == 2
    assert reader.boolean(node, "present") is True
    assert reader.text(node, "missing") is None
    assert reader.number(node, "missing") is None
    assert reader.problems == []


def test_each_unusable_value_is_none_and_one_problem_at_its_line() -> None:
    reader, node = reader_of()
    assert reader.text(node, "port") is None
    assert reader.number(node, "cable_m", low=0) is None
    assert reader.number(node, "current_a", above=0) is None
    assert reader.integer(node, "retries", low=0, high=10) is None
    assert reader.boolean(node, "present", "meters: present") is None
    assert reader.choice(node, "adapter", ("clu", "end")) is None
    assert reader.parsed(node, "line", LineSettings.parse, "e.g. 38400 8E1") is None
    assert reader.parsed(node, "nested", LineSettings.parse, "e.g. 38400 8E1") is None
    assert problems(reader) == [
        "f.yaml:2: port is a whole number (expected text)",
        "f.yaml:3: cable_m is -2 (expected a number, 0 or more)",
        "f.yaml:4: current_a is 0 (expected a number above 0)",
        "f.yaml:5: retries is a number (expected a whole number, 0..10)",
        "f.yaml:6: meters: present is text (expected true or false)",
        "f.yaml:7: adapter is 'middle' (expected clu | end)",
        "f.yaml:8: 'fast' is not a line setting (expected e.g. '38400 8E1')",
        "f.yaml:10: nested is a list (expected e.g. 38400 8E1)",
    ]


def test_of_names_a_value_by_what_holds_it() -> None:
    reader, node = reader_of()
    assert reader.text(node, "port", of="finding X") is None
    assert reader.number(node, "name", of="range 1") is None
    assert problems(reader) == [
        "f.yaml:2: 'port' of finding X is a whole number (expected text)",
        "f.yaml:1: 'name' of range 1 is text (expected a number)",
    ]


def test_unknown_keys_suggest_the_close_one_and_missing_keys_are_named() -> None:
    reader, node = reader_of()
    allowed = ("port", "cable_m", "current_a", "retries", "present", "adapter", "line")
    reader.keys(node, "the site", required=("name", "notes"), optional=(*allowed, "nested"))
    assert problems(reader) == [
        "f.yaml:9: unknown key 'colour' in the site (expected one of: name, notes, port, cable_m, "
        "current_a, retries, present, adapter, line, nested)",
        "f.yaml:1: the site has no 'notes' (expected a 'notes' key)",
    ]
    reader, node = reader_of("nmae: x\n")
    reader.keys(node, "the file", optional=("name", "notes"))
    assert problems(reader) == [
        "f.yaml:1: unknown key 'nmae' in the file; did you mean 'name'? "
        "(expected one of: name, notes)"
    ]


def test_a_section_is_a_mapping_with_its_keys_checked() -> None:
    reader, node = reader_of("meters:\n  presnt: true\nchain: 3\n")
    meters = reader.section(node["meters"], node.value_line_of("meters"), "meters", ("present",))
    assert meters == {"presnt": True}
    assert reader.section(node["chain"], node.value_line_of("chain"), "chain") is None
    assert problems(reader) == [
        "f.yaml:2: unknown key 'presnt' in meters; did you mean 'present'? "
        "(expected one of: present)",
        "f.yaml:2: meters has no 'present' (expected a 'present' key)",
        "f.yaml:3: chain is a whole number (expected a mapping)",
    ]


def test_a_file_type_may_keep_its_own_wording_through_the_hooks() -> None:
    class Terse(Reader):
        def out_of_range(
            self, line: int, what: str, value: float, expected: str, span: str
        ) -> None:
            self.report(line, f"{what} is {value}, out of range", span)

    reader, node = reader_of()
    assert reader.number(node, "cable_m", low=0, high=50) is None
    terse = Terse("f.yaml")
    assert terse.number(node, "cable_m", low=0, high=50) is None
    assert terse.whole(99, 7, "address", low=1, high=63) is None
    assert problems(reader) == ["f.yaml:3: cable_m is -2 (expected a number, 0..50)"]
    assert problems(terse) == [
        "f.yaml:3: cable_m is -2, out of range (expected 0..50)",
        "f.yaml:7: address is 99, out of range (expected 1..63)",
    ]


def test_numbers_are_finite_and_booleans_are_not_numbers() -> None:
    reader, node = reader_of("a: .nan\nb: .inf\nc: true\n")
    assert [reader.number(node, key) for key in "abc"] == [None, None, None]
    assert problems(reader) == [
        "f.yaml:1: a is a number (expected a number)",
        "f.yaml:2: b is inf (expected a number)",
        "f.yaml:3: c is true/false (expected a number)",
    ]


def test_texts_takes_one_text_or_a_list_of_them() -> None:
    reader, node = reader_of("one: step\nmany: [a, ' b ']\nbad: [a, 3]\n")
    assert reader.texts(node, "one") == ("step",)
    assert reader.texts(node, "many") == ("a", "b")
    assert reader.texts(node, "bad", of="finding X") is None
    assert problems(reader) == [
        "f.yaml:3: item 2 of 'bad' of finding X is a whole number (expected text)"
    ]


def test_where_remembers_the_line_of_each_key_and_item() -> None:
    data = load_yaml_text("a: 1\nb:\n  - x\n  - y\n", "f.yaml")
    where = where_of("f.yaml", data)
    assert (str(where.at()), str(where.at("b")), str(where.at("b", 1))) == (
        "f.yaml:1",
        "f.yaml:2",
        "f.yaml:4",
    )


def test_yaml_errors_are_located_problems() -> None:
    with pytest.raises(FileProblemError) as caught:
        load_yaml_text("a: 1\na: 2\n", "f.yaml")
    assert str(caught.value) == "f.yaml:2:1: duplicate key 'a' (first given on line 1)"
    with pytest.raises(
        FileProblemError, match=r"^f\.yaml:2:1: not valid YAML: did not find expected"
    ):
        load_yaml_text("a: [1\n", "f.yaml")
    assert load_yaml_text("led: off\nanswer: no\nok: true\n", "f.yaml") == {
        "led": "off",
        "answer": "no",
        "ok": True,
    }


def test_importing_the_reader_does_not_import_pyyaml() -> None:
    """The engine's records carry a Where, so yamlio is on every run's start-up path; PyYAML
    (about as costly to import as the engine) loads only when a file is parsed."""
    code = (
        "import sys\n"
        "import clu_doctor.yamlio as y\n"
        "print('before', 'yaml' in sys.modules)\n"
        "y.load_yaml_text('a: 1', 'x')\n"
        "print('after', 'yaml' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.stdout.split() == ["before", "False", "after", "True"], proc.stderr
