"""Bus-side results as text or JSON: serial ports, simulator scenarios and endpoints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clu_doctor.report import envelope, to_json
from clu_doctor.report.console import OutputMode, render_to_string

if TYPE_CHECKING:
    from clu_doctor.bus.ports import SerialPortInfo


def render_ports_text(ports: Sequence[SerialPortInfo], mode: OutputMode) -> str:
    """A table of ports, likely USB-RS485 adapters marked; what to check when none is one."""
    from clu_doctor.bus.ports import NO_ADAPTER_CHECKS, no_adapter_advice  # with the ports

    if not ports:
        return f"No serial ports found, so no USB-RS485 adapter: {NO_ADAPTER_CHECKS}.\n"
    advice = no_adapter_advice(ports)
    from rich import box  # rich: text output only (JSON runs never load it)
    from rich.table import Table  # rich: text output only (JSON runs never load it)

    table = Table(box=box.SIMPLE if mode.styled else box.ASCII, show_edge=mode.styled)
    for column in ("port", "adapter", "USB id", "description", "serial"):
        table.add_column(column)
    for port in ports:
        adapter = port.chip or ("RS-485 (by name)" if port.mentions_rs485 else "")
        table.add_row(
            port.device,
            f"[bold green]{adapter}[/]" if adapter and mode.styled else adapter,
            port.usb_id or "",
            port.description,
            port.serial_number or "",
        )
    text = render_to_string(mode, table)
    if advice:
        text += f"\n{advice[0].upper()}{advice[1:]}.\n"
    return text


def render_ports_json(ports: Sequence[SerialPortInfo]) -> str:
    from clu_doctor.bus.ports import no_adapter_advice  # with the ports

    return to_json(
        envelope(
            "ports",
            {
                "adapter_found": any(p.likely_adapter for p in ports),
                "advice": no_adapter_advice(ports),
                "ports": [
                    {
                        "device": p.device,
                        "description": p.description,
                        "usb_id": p.usb_id,
                        "chip": p.chip,
                        "likely_adapter": p.likely_adapter,
                        "serial_number": p.serial_number,
                        "manufacturer": p.manufacturer,
                        "product": p.product,
                        "location": p.location,
                        "hwid": p.hwid,
                    }
                    for p in ports
                ],
            },
        )
    )


def render_scenarios_text(scenarios: Sequence[tuple[str, str]]) -> str:
    """One line per scenario: name, then its description (plain: greppable and stable)."""
    width = max((len(name) for name, _ in scenarios), default=0)
    return "".join(f"{name:<{width}}  {description}\n" for name, description in scenarios)


def render_scenarios_json(scenarios: Sequence[tuple[str, str]], directory: Path) -> str:
    """The scenarios with the file each one is (``directory``/NAME.yaml)."""
    return to_json(
        envelope(
            "scenarios",
            {
                "directory": str(directory),
                "scenarios": [
                    {"name": n, "description": d, "path": str(directory / f"{n}.yaml")}
                    for n, d in scenarios
                ],
            },
        )
    )


def render_sim_addresses_text(addresses: Mapping[str, str]) -> str:
    """The ports to use, one per line: ``pty /dev/pts/3`` and ``tcp socket://...``."""
    return "".join(f"{kind:<4}{address}\n" for kind, address in addresses.items())


def render_sim_addresses_json(scenario: str, addresses: Mapping[str, str]) -> str:
    return to_json(envelope("sim", {"scenario": scenario, "addresses": dict(addresses)}))
