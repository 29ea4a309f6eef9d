"""An answers file to fill in, for ``clu-doctor diagnose --answers FILE``.

One line per question a person answers (the LEDs, the time since power-up, charging, the
portal), each with its question above it and its values beside it, every answer ``unknown``
until it is filled in. A support desk sends it to the technician, or the technician fills it in
on site and the desk runs the diagnosis from it.
"""

from __future__ import annotations

from collections.abc import Iterable

from clu_doctor.engine import ObservationSpec
from clu_doctor.engine.observations import SpecSource

_HEADER = """\
# Answers for 'clu-doctor diagnose --answers FILE': what was seen at the site.
# Replace 'unknown' with what you saw; leave it (or delete the line) where you do not know.
# The bus answers some of these by itself when clu-doctor is connected to it; --observe flags
# on the command line override this file.
"""


def render_answers_template(specs: Iterable[ObservationSpec]) -> str:
    """The answers file: every question a person answers, all ``unknown``."""
    lines = [_HEADER]
    for spec in specs:
        if spec.source is not SpecSource.ASK:
            continue
        values = " | ".join([*spec.value_names, "unknown"]) if spec.value_names else spec.expected()
        lines.append(f"\n# {spec.question}\n# {values}\n{spec.key}: unknown\n")
    return "".join(lines)
