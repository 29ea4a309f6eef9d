"""Read the control-pilot voltages of controllers that answered a scan (active mode only).

ABL's EVCC2/3 reports its pilot measurements in an undocumented read-only block (0x0015 x5,
field-evidence §5; :attr:`DeviceProfile.pilot`). One read per address, at the deadline the
scan learned on this bus, after the same listen-before-talk gate as every active probe; a
silent or garbled answer is ``None`` for that address (not judged), never a fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clu_doctor.bus.errors import UnexpectedAnswer
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.base import LbtResult, exchange, require_quiet
from clu_doctor.bus.profile import DeviceProfile, PilotReading


def read_pilots(
    link: Link,
    profile: DeviceProfile,
    addresses: Sequence[int],
    *,
    timeout: float,
    first_byte: float | None = None,
    force: bool = False,
    lbt: LbtResult | None = None,
) -> Mapping[int, PilotReading | None]:
    """Each address's pilot reading (``None``: no valid answer). ``timeout``/``first_byte``:
    the answer deadlines (the scan's learned ones). Nothing is read for a profile without a
    pilot block. :class:`~clu_doctor.bus.probes.base.BusBusy` as for every active probe."""
    block = profile.pilot
    if block is None or not addresses:
        return {}
    require_quiet(link, force=force, lbt=lbt)
    found: dict[int, PilotReading | None] = {}
    for address in addresses:
        attempt = exchange(link, block.request(address), "pilot", timeout, first_byte)
        reading = None
        if attempt.outcome == "ok":
            try:
                reading = profile.decode_pilot(attempt.registers)
            except UnexpectedAnswer:
                reading = None
        found[address] = reading
    return found
