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
from clu_doctor.i18n import N_, _

_HEADER = N_(
    """\
# Answers for 'clu-doctor diagnose --answers FILE': what was seen at the site.
# Replace 'unknown' with what you saw; leave it (or delete the line) where you do not know.
# The bus answers some of these by itself when clu-doctor is connected to it; --observe flags
# on the command line override this file.
"""
)


def value_words(spec: ObservationSpec) -> str:
    """What an answer may be: ``off | steady | flashing | unknown``, each value with the word
    of the run's language beside it (``off (av)``), or what a number looks like."""
    if not spec.value_names:
        return spec.expected()
    words = [
        f"{value.name} ({value.label})" if value.label and value.label != value.name else value.name
        for value in spec.values
    ]
    return " | ".join([*words, "unknown"])


def render_answers_template(specs: Iterable[ObservationSpec]) -> str:
    """The answers file: every question a person answers, all ``unknown``."""
    lines = [_(_HEADER)]
    for spec in specs:
        if spec.source is not SpecSource.ASK:
            continue
        lines.append(f"\n# {spec.question}\n# {value_words(spec)}\n{spec.key}: unknown\n")
    return "".join(lines)
