"""A commented ``site.yaml`` to start from (``clu-doctor site init``).

Every key is explained where it stands, as the technician fills the file in on site. Given what
a listen or a scan of the bus found (:class:`FoundStation`), the chain is filled from it: the
addresses the CLU polls (a CLU polls the stations it was configured with) or that answered a
read, in address order, each with a comment saying what was heard. The text is built here, not
by a YAML library, so the comments survive; ``tests/site/test_template.py`` parses every variant
with the site reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from clu_doctor.records import record
from clu_doctor.site.model import DEFAULT_LABEL_PREFIX, DEFAULT_PROFILE, FIRST_ADDRESS


@record
class FoundStation:
    """An address as the bus showed it."""

    address: int
    #: The CLU polled it during the listen.
    polled: bool = False
    #: It gave a valid answer (to the CLU or to the tool's read).
    answered: bool = False
    #: Serial number, from an identity read.
    serial: str | None = None
    #: State code last seen (``A1``, ``F4``).
    state: str | None = None

    @property
    def note(self) -> str:
        """What was heard, for the comment on its line."""
        heard = []
        if self.polled:
            heard.append("polled by the CLU")
        if self.answered:
            heard.append("answered")
        elif self.polled:
            heard.append("but SILENT: find out why before you rely on this line")
        if self.serial:
            heard.append(f"serial {self.serial}")
        if self.state:
            heard.append(f"state {self.state}")
        return ", ".join(heard)


@record
class TemplateFacts:
    """What the template says beyond the chain (``None``: leave the key commented out)."""

    name: str = "New site"
    port: str | None = None
    #: The device profile to write (``None``: the default one).
    profile: str | None = None
    #: Line settings found on the bus when they differ from the profile's (``9600 8N1``).
    line: str | None = None
    framing: str | None = None
    #: Where the bus was heard from, for the header comment.
    heard_on: str | None = None
    #: How it was found: ``listen`` or ``scan``.
    how: str | None = None


_HEADER = """\
# site.yaml - one DEFA CLU site as clu-doctor should expect to find it.
#
#   clu-doctor diagnose --port /dev/ttyUSB0 --site site.yaml
#   clu-doctor check --site /etc/clu-doctor/site.yaml --format nagios
#
# Write the site down once (from the installation papers, the CLU's configuration and the labels
# on the outlets); clu-doctor compares what it finds on the bus with it. Mistakes are reported
# as `site.yaml:LINE: message`, and unknown keys are errors, so a typo never falls back to a
# default. Only `name` and `chain` are required; every other key may be left out.
"""

_BODY = """\

# Device profile of the charge controllers: a bundled profile (defa-erange, modbus-meter) or the
# path of your own profile file, relative to this file.
profile: {profile}
# Override the profile's line settings or framing only if the site differs:
{line}
{framing}

# The serial port of the adapter that stays at the site (a gateway running `clu-doctor check`).
# A /dev/serial/by-id/ path survives reboots and re-plugging; --port overrides it.
{port}

# Where your USB-RS485 adapter joins the bus: at the CLU's terminal block (clu) or after the
# last station (end). The manual's end-of-bus check wants `end`.
adapter: clu

# `connected`: the CLU is on the bus, clu-doctor only listens. `disconnected` (the CLU's
# USB-RS485 interface unplugged or the CLU off): active reads are allowed after clu-doctor has
# listened and found the bus quiet.
clu: connected

# Total length of the communication cable, CLU to the last station, in metres (at most 150 m,
# manual §9):
# cable_m: 85

# Site current per phase in amperes, what the CLU shares between the outlets (manual §7):
# site_current_a: 63

# Energy meters: fitted? Meter data needs a second bus from the CLU (manual §9.2-9.6).
# meters: {{present: true, second_bus: true}}

# The letters before the two digits on the outlets' labels (the manual prints XAXXY01..16):
# label_prefix: {prefix}

# For `clu-doctor check`: when a check warns or pages, and what it leaves alone.
thresholds:
  # Silent planned stations that make a WARNING, and that make it CRITICAL.
  stations_silent: {{warning: 1, critical: 1}}
  # Checks in a row that hear not a single byte (a CLU without power stops polling) that make
  # it CRITICAL instead of UNKNOWN. Remove the line to keep them UNKNOWN.
  silent_bus: {{critical: 4}}
  # corrupt_rate: {{warning: 0.02, critical: 0.10}}
  # flapping: {{missed: 2, of: 8}}
# ignore:
#   - {{finding: BUS-NOISE-01, address: 9, reason: cable replaced in December, until: 2026-12-31}}

# The stations in the order the bus cable runs through them: the first is wired to the CLU,
# each next one's BUS IN to the previous one's BUS OUT (manual §9). For each station:
#   address  the controller's bus address, 1..16
#   model    UNO | IQ (one outlet, one address) | DUO (two outlets, two consecutive addresses)
#   label    the outlet's label (UNO, IQ); its two digits are the address (manual §12)
#   labels   a DUO's two labels: [XAXXY07, XAXXY08]; a DUO is written once, at its first address
#   name     how people on site call it (optional)
"""


def site_template(found: Sequence[FoundStation] = (), facts: TemplateFacts | None = None) -> str:
    """The commented ``site.yaml``; the chain from ``found`` (address order), else one
    station at address 1 to replace."""
    facts = facts or TemplateFacts()
    text = _HEADER
    if facts.heard_on:
        text += (
            f"#\n# Filled in from a {facts.how or 'listen'} of {facts.heard_on}: the chain below "
            "is in address order,\n# not yet in cable order, and every station is written as "
            "UNO. Put the stations in the\n# order the cable runs, and write a DUO as one line "
            "at its first address (model: DUO).\n"
        )
    text += f"\n# The site's name, as you want it in reports and in the history.\nname: {_quoted(facts.name)}\n"
    text += _BODY.format(
        profile=facts.profile or DEFAULT_PROFILE,
        line=f"line: {facts.line}"
        if facts.line
        else "# line: 38400 8E1      # baud, data bits, parity (N/E/O), stop bits",
        framing=f"framing: {facts.framing}"
        if facts.framing
        else "# framing: ascii        # ascii (ABL-style, '>' replies) | rtu",
        port=f"port: {_quoted(facts.port)}"
        if facts.port
        else "# port: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0",
        prefix=DEFAULT_LABEL_PREFIX,
    )
    text += "chain:\n"
    stations = sorted(found, key=lambda station: station.address)
    if not stations:
        text += (
            "  # Replace this line with one line per station, e.g.\n"
            "  #   - {address: 7, model: DUO, labels: [XAXXY07, XAXXY08], name: Ramp pillar}\n"
            f"  - {{address: {FIRST_ADDRESS}, model: UNO, label: {_label(FIRST_ADDRESS)}}}\n"
        )
    for station in stations:
        line = f"  - {{address: {station.address}, model: UNO, label: {_label(station.address)}}}"
        text += f"{line}  # {station.note}\n" if station.note else f"{line}\n"
    return text


def _label(address: int) -> str:
    return f"{DEFAULT_LABEL_PREFIX}{address:02d}"


def _quoted(text: str) -> str:
    """A YAML scalar that reads back as ``text``: plain when it is plainly text, else a
    double-quoted string (JSON's escapes are YAML's too)."""
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


#: Text YAML reads as a plain string: a letter first, then letters, digits, spaces and a few
#: marks (no ": ", no " #", nothing a number, a date or a flow collection starts with).
_PLAIN = re.compile(r"^[^\W\d_][\w .()/-]*(?<! )$")
_YAML_WORDS = {"yes", "no", "y", "n", "true", "false", "on", "off", "null", "nan", "inf"}
