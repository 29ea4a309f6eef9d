"""pyserial URL handler: ``serial.serial_for_url("sim://healthy-16?wire_time=0&seed=3")``.

Register it once with :func:`clu_doctor.sim.register_url_handler` (which appends
``"clu_doctor.sim"`` to ``serial.protocol_handler_packages``); after that every program that
opens ports through pyserial -- clu-doctor's own ``--port`` included -- can open a simulated
site in-process, with no pty and no thread: each ``read``/``write`` advances the site to the
present moment of the process's clock (:func:`clu_doctor.clock.current` when the port is opened:
the host's monotonic clock, or a test's virtual one, on which waiting costs no time).

URL forms::

    sim://NAME[?options]            a bundled scenario (clu-doctor sim --list)
    sim:///path/to/site.yaml[?...]  any scenario file

Options (all optional):

=============  ==========================================================================
``wire_time``  ``1`` (default): bytes take their physical time on the wire and replies
               come after the device's turnaround; ``0``: every exchange completes at once
``time_scale`` compress simulated time, e.g. ``100`` makes the CLU's 150 s boot last 1.5 s
``seed``       integer seed for noise, jitter and collisions (default 0)
``at``         where the adapter is attached: ``clu`` or ``end`` (default: the scenario's)
``clu``        ``0`` unplugs the CLU (active probing mode), ``1`` keeps it
``uptime``     seconds the CLU has been powered when the simulation starts
=============  ==========================================================================

The handler sees the client's ``baudrate``/``bytesize``/``parity``/``stopbits`` directly and
garbles the traffic when they differ from the bus's, delivering characters with errors as
pyserial on Linux would (framing errors and breaks as NUL, parity not checked).
``inter_byte_timeout`` is not emulated.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from clu_doctor.bus.chain import ADAPTER_POSITIONS, AdapterAt
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import Timeout, current
from clu_doctor.errors import CluDoctorError
from clu_doctor.records import record
from clu_doctor.sim.line import RxPolicy
from clu_doctor.sim.scenario import Scenario
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import Adapter, SimSite

#: Longest single wait inside ``read`` before the site is advanced again.
MAX_WAIT_S = 0.05
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@record
class SimUrl:
    """A parsed ``sim://`` URL."""

    scenario: str
    wire_time: bool = True
    time_scale: float = 1.0
    seed: int = 0
    at: AdapterAt | None = None
    clu: bool | None = None
    uptime: float | None = None

    @property
    def url(self) -> str:
        """The ``sim://`` URL of these options (those at their defaults left out)."""
        scenario = urllib.parse.quote(self.scenario)
        given: list[tuple[str, object]] = [
            ("wire_time", None if self.wire_time else 0),
            ("time_scale", None if self.time_scale == 1.0 else _number(self.time_scale)),
            ("seed", self.seed or None),
            ("at", self.at),
            ("clu", None if self.clu is None else int(self.clu)),
            ("uptime", None if self.uptime is None else _number(self.uptime)),
        ]
        query = urllib.parse.urlencode([(k, v) for k, v in given if v is not None])
        return f"sim://{scenario}" + (f"?{query}" if query else "")


def _number(value: float) -> str:
    """``4`` for 4.0, every digit of anything else (the URL must give back the same value)."""
    return str(int(value)) if value.is_integer() else repr(value)


def _flag(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"sim:// option {name}={value!r}: expected 0 or 1")


def parse_url(url: str) -> SimUrl:
    """Parse a ``sim://`` URL; ``ValueError`` names the bad part."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        raise ValueError(f"expected a sim:// URL, not {url!r}")
    # sim://dir/site.yaml puts "dir" in the host part: the scenario is host and path together
    scenario = urllib.parse.unquote(parts.netloc + parts.path)
    if not scenario:
        raise ValueError("sim:// URL without a scenario, e.g. sim://healthy-16")
    try:
        return parse_options(scenario, parts.query)
    except ValueError as error:
        raise ValueError(f"sim:// {error}") from None


def parse_options(scenario: str, query: str) -> SimUrl:
    """``scenario`` with the options of ``query`` (``seed=3&at=end``), as a ``sim://`` URL
    and ``--sim SCENARIO?QUERY`` give them; ``ValueError`` names the bad option."""
    values: dict[str, Any] = {}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        try:
            if name in ("wire_time", "clu"):
                values[name] = _flag(name, value)
            elif name == "time_scale":
                values[name] = float(value)
                if not values[name] > 0:
                    raise ValueError("must be positive")
            elif name == "seed":
                values[name] = int(value)
            elif name == "uptime":
                values[name] = float(value)
            elif name == "at":
                if value not in ADAPTER_POSITIONS:
                    raise ValueError(f"expected {' or '.join(ADAPTER_POSITIONS)}")
                values[name] = value
            else:
                raise ValueError(
                    "unknown option (expected wire_time, time_scale, seed, at, clu, uptime)"
                )
        except ValueError as error:
            raise ValueError(f"option {name}={value!r}: {error}") from None
    return SimUrl(scenario, **values)


def simulated_port(scenario: Scenario, options: SimUrl) -> Serial:
    """An unopened port on ``scenario``, a scenario already read (``options`` say how to run
    it): what ``serial_for_url(options.url, do_not_open=True)`` gives, without reading the
    scenario file again. For :meth:`clu_doctor.bus.link.Link.open`'s ``handle``."""
    port = Serial(None)
    port.preset = (scenario, options)
    port.port = options.url
    return port


class Serial(SerialBase):  # type: ignore[misc]
    """A serial port whose far end is a simulated site (see the module docstring)."""

    is_open: bool
    #: The scenario and options when made by :func:`simulated_port` (``None``: the URL says).
    preset: tuple[Scenario, SimUrl] | None = None

    def open(self) -> None:
        if self.is_open:
            raise SerialException("port already open")
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        try:
            if self.preset is not None:
                read, options = self.preset
            else:
                options = parse_url(self.portstr)
                read = load_scenario(options.scenario)
            scenario = read.with_changes(
                adapter_at=options.at, clu_present=options.clu, clu_uptime_s=options.uptime
            )
        except (ValueError, CluDoctorError) as error:
            raise SerialException(f"could not open {self.portstr}: {error}") from None
        self.options = options
        self.clock = current()
        self.site = SimSite(
            scenario,
            wire_time=options.wire_time,
            time_scale=options.time_scale,
            seed=options.seed,
            clock=self.clock,
        )
        self.adapter: Adapter = self.site.adapter
        self._rx = bytearray()
        self.is_open = True
        self._reconfigure_port()

    def close(self) -> None:
        self.is_open = False

    def from_url(self, url: str) -> SimUrl:
        return parse_url(url)

    # -- settings -----------------------------------------------------------------------------

    def line_settings(self) -> LineSettings:
        """The client's settings as a :class:`LineSettings` (mark/space parity unsupported)."""
        if self._parity not in ("N", "E", "O"):
            raise SerialException(f"parity {self._parity!r} is not simulated (use N, E or O)")
        return LineSettings(self._baudrate, self._bytesize, self._parity, float(self._stopbits))

    def _reconfigure_port(self, force_update: bool = False) -> None:
        if self.is_open:
            self.adapter.configure(self.line_settings(), RxPolicy())

    # -- I/O ------------------------------------------------------------------------------

    def _pull(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        self._rx += self.adapter.read(self.clock.now())

    @property
    def in_waiting(self) -> int:
        self._pull()
        return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        self._pull()
        timeout = Timeout(self._timeout, self.clock)
        while len(self._rx) < size and not timeout.expired():
            now = self.clock.now()
            due = self.adapter.next_arrival()
            wake = now + MAX_WAIT_S if due is None else min(due, now + MAX_WAIT_S)
            if timeout.deadline is not None:
                wake = min(wake, timeout.deadline)
            # Always waits a little, even when the next arrival is due "now" (characters already
            # waiting that the client's policy may drop): on a clock that only moves when slept
            # on, a loop that never slept would never end.
            self.clock.sleep_until(wake)
            self._pull()
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    def write(self, data: Any) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        payload = serial.to_bytes(data)
        self.adapter.write(payload, self.clock.now())
        return len(payload)

    def flush(self) -> None:
        """Wait until everything written has left the adapter (like tcdrain)."""
        if not self.is_open:
            raise PortNotOpenError()
        self.clock.sleep_until(self.adapter.idle_at())

    def reset_input_buffer(self) -> None:
        self._pull()
        self._rx.clear()

    def reset_output_buffer(self) -> None:
        """Bytes already handed to the adapter are on the wire; nothing to discard."""

    # -- modem lines: an RS-485 adapter has none that matter --------------------------------

    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True
