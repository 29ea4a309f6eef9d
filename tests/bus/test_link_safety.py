"""The safety rule, proved: only read requests (0x03/0x04) to addresses 1..247 reach the wire.

Every public entry point that can transmit is driven with every function code and address
(exhaustively where cheap, by hypothesis elsewhere), the one writing method is attacked
directly with arbitrary bytes, and an AST check proves there is exactly one write call in the
whole bus package.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clu_doctor.bus
from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.errors import DeviceException, FrameError, TransmitRefused
from clu_doctor.bus.frames import READ_FUNCTIONS, Direction, Frame, ReadRequest, build_exception
from clu_doctor.bus.link import Link
from clu_doctor.bus.settings import LineSettings
from tests.bus.fakes import FakeBus
from tests.bus.strategies import frames, read_requests

FAST = LineSettings.parse("115200 8N1")
FRAMINGS = ("ascii", "rtu")
FakeBusFactory = Callable[..., FakeBus]


def refuse_everything(framing: str) -> Callable[[bytes], bytes | None]:
    """A device that answers every valid request at once with exception 01, to keep tests fast."""
    codec = get_codec(framing)

    def respond(data: bytes) -> bytes | None:
        try:
            frame = codec.decode(data)
        except FrameError:
            return None
        return codec.encode(build_exception(frame.address, frame.function, 1))

    return respond


def assert_only_safe_writes(bus: FakeBus, framing: str) -> None:
    codec = get_codec(framing)
    for raw in bus.written:
        frame = codec.decode(raw)
        request = ReadRequest.from_frame(frame)
        assert request.function in READ_FUNCTIONS
        assert 1 <= request.address <= 247
        assert codec.encode(frame) == raw
        if framing == "ascii":
            assert raw.startswith(b":")


@contextlib.contextmanager
def opened(bus: FakeBus, framing: str) -> Iterator[Link]:
    with Link.open(bus.url, FAST, framing, timeout=0.05) as link:
        yield link


@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_function_and_address_through_read_registers(
    fake_bus: FakeBusFactory, framing: str
) -> None:
    bus = fake_bus(responder=refuse_everything(framing))
    sent = 0
    with opened(bus, framing) as link:
        for function in range(256):
            for address in range(256):
                before = len(bus.written)
                allowed = function in (3, 4) and 1 <= address <= 247
                try:
                    link.read_registers(address, 0x002E, 5, function=function)
                except TransmitRefused:
                    assert not allowed, (function, address)
                    assert len(bus.written) == before
                except DeviceException:
                    assert allowed, (function, address)
                    assert len(bus.written) == before + 1
                    sent += 1
                else:
                    pytest.fail(f"function {function} address {address}: no exception")
    assert sent == 2 * 247
    assert_only_safe_writes(bus, framing)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    framing=st.sampled_from(FRAMINGS),
    function=st.integers(-3, 300),
    address=st.integers(-3, 300),
    start=st.integers(-3, 0x10003),
    count=st.integers(-3, 300),
)
def test_read_registers_with_any_arguments_sends_only_safe_reads(
    fake_bus: FakeBusFactory, *, framing: str, function: int, address: int, start: int, count: int
) -> None:
    bus = fake_bus(responder=refuse_everything(framing))
    with opened(bus, framing) as link:
        try:
            link.read_registers(address, start, count, function=function)
        except TransmitRefused:
            assert bus.written == []
        except DeviceException:
            assert bus.written == [
                get_codec(framing).encode(ReadRequest(address, start, count, function).to_frame())
            ]
    assert_only_safe_writes(bus, framing)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    framing=st.sampled_from(FRAMINGS),
    request=read_requests(),
    field=st.sampled_from(["address", "function", "start", "count"]),
    value=st.integers(-3, 0x10003),
)
def test_a_tampered_read_request_cannot_get_through(
    fake_bus: FakeBusFactory,
    framing: str,
    request: ReadRequest,
    field: str,
    value: int,
) -> None:
    # ReadRequest validates itself when built; here its fields are overwritten afterwards, as
    # buggy or hostile code could, and the link must still only send what is safe.
    object.__setattr__(request, field, value)
    bus = fake_bus(responder=refuse_everything(framing))
    with opened(bus, framing) as link, contextlib.suppress(TransmitRefused, DeviceException):
        link.request(request)
    assert_only_safe_writes(bus, framing)
    assert len(bus.written) <= 1


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(framing=st.sampled_from(FRAMINGS), data=st.binary(max_size=80))
def test_the_writing_method_refuses_arbitrary_bytes(
    fake_bus: FakeBusFactory, framing: str, data: bytes
) -> None:
    bus = fake_bus()
    with opened(bus, framing) as link, contextlib.suppress(TransmitRefused):
        link._transmit(data)
    assert_only_safe_writes(bus, framing)


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(framing=st.sampled_from(FRAMINGS), frame=frames(max_data=12))
def test_the_writing_method_refuses_every_frame_but_a_read_request(
    fake_bus: FakeBusFactory, framing: str, frame: Frame
) -> None:
    codec = get_codec(framing)
    data = codec.encode(frame)
    bus = fake_bus()
    with opened(bus, framing) as link:
        try:
            link._transmit(data)
        except TransmitRefused:
            assert bus.written == []
        else:
            assert bus.written == [data]
            request = ReadRequest.from_frame(frame)
            assert 1 <= request.address <= 247
            assert framing == "rtu" or frame.direction is not Direction.REPLY
    assert_only_safe_writes(bus, framing)


@pytest.mark.parametrize(
    ("framing", "data", "why"),
    [
        # abl-protocol.md worked example 4a: write Icmax to ID 3.
        ("ascii", b":03100014000102010ACB\r\n", "function 0x10"),
        # worked example 5: broadcast "go to E2" (a write, and a broadcast).
        ("ascii", b":00100005000102E2E224\r\n", "function 0x10"),
        # a broadcast read of 0x002E: a read, but to address 0.
        ("ascii", b":0003002E0005CA\r\n", "address 0"),
        # a read request dressed as a reply (ABL '>' start).
        ("ascii", b">0103002E0005C9\r\n", "not a read request"),
        # lowercase hex: decodes, but is not what the codec would send.
        ("ascii", b":0103002e0005c9\r\n", "canonical"),
        # two requests in one write.
        ("ascii", b":0103002E0005C9\r\n:0203002E0005C8\r\n", "exactly one frame"),
        # RTU preset single register 40002 (simplymodbus FC06 example).
        ("rtu", bytes.fromhex("11 06 00 01 00 03 9A 9B"), "function 0x06"),
        # RTU read with a trailing NUL: by CRC algebra this still passes the CRC check, as a
        # 5-data-byte frame of function 3 - which is no read request.
        ("rtu", bytes.fromhex("11 03 00 6B 00 03 76 87 00"), "not a read request"),
        # RTU read with a trailing 0xFF: the CRC check fails.
        ("rtu", bytes.fromhex("11 03 00 6B 00 03 76 87 FF"), "exactly one frame"),
        # RTU read of 126 registers (more than Modbus allows).
        ("rtu", get_codec("rtu").encode(Frame(1, 3, bytes.fromhex("0000007E"))), "count 126"),
    ],
)
def test_named_dangerous_frames_are_refused(
    fake_bus: FakeBusFactory, framing: str, data: bytes, why: str
) -> None:
    bus = fake_bus()
    with opened(bus, framing) as link, pytest.raises(TransmitRefused, match=why):
        link._transmit(data)
    assert bus.written == []


# --- the code itself -----------------------------------------------------------------------

BUS_DIR = Path(clu_doctor.bus.__file__).parent
WRITE_NAMES = {"write", "writelines", "send", "sendall", "sendto", "sendmsg"}


def bus_modules() -> list[Path]:
    return sorted(BUS_DIR.rglob("*.py"))


def write_calls() -> list[tuple[str, str, int]]:
    """(module, enclosing function, line) of every write-like call in the bus package.

    Counts ``x.write(...)``, ``os.write(...)``, ``sock.send(...)`` and the like, and
    ``getattr(x, "write")`` so the rule cannot be dodged by looking the method up by name.
    """
    found: list[tuple[str, str, int]] = []
    for path in bus_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            by_attribute = isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_NAMES
            by_name = (
                isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and any(
                    isinstance(arg, ast.Constant) and arg.value in WRITE_NAMES for arg in node.args
                )
            )
            if not (by_attribute or by_name):
                continue
            owner: ast.AST = node
            while owner in parents and not isinstance(
                owner, ast.FunctionDef | ast.AsyncFunctionDef
            ):
                owner = parents[owner]
            name = (
                owner.name
                if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef)
                else "<module>"
            )
            found.append((path.name, name, node.lineno))
    return found


def test_exactly_one_write_call_in_the_whole_bus_package() -> None:
    calls = write_calls()
    assert [(module, function) for module, function, _ in calls] == [("link.py", "_transmit")]


def test_the_writing_method_vets_before_anything_else() -> None:
    tree = ast.parse((BUS_DIR / "link.py").read_text(encoding="utf-8"))
    (method,) = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "_transmit"
    ]
    body = [
        statement
        for statement in method.body
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
    ]
    first = body[0]
    assert isinstance(first, ast.Expr)
    assert isinstance(first.value, ast.Call)
    assert ast.unparse(first.value) == "self._vet(data)"


def test_only_the_link_and_the_port_lister_import_pyserial() -> None:
    importers = set()
    for path in bus_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "serial" or name.startswith("serial.") for name in names):
                importers.add(path.name)
    assert importers <= {"link.py", "ports.py"}


def test_the_bus_layer_imports_no_terminal_or_upper_layer_code() -> None:
    banned = ("rich", "typer", "clu_doctor.engine", "clu_doctor.sim", "clu_doctor.cli")
    offenders = []
    for path in bus_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if any(name == b or name.startswith(b + ".") for b in banned):
                    offenders.append((path.name, name))
    assert offenders == []
