"""One module per command group; each exposes ``register(app)``. Kept thin: parse, call, render.

Modules import heavy dependencies (rich, serial, the engine) inside the command bodies, so that
building the command tree at start-up stays cheap.
"""


def flow(text: str) -> str:
    """Help text with each paragraph on one line, so the terminal wraps it at its own width
    (the source keeps its lines short; the rich help would otherwise break at them too)."""
    return "\n\n".join(" ".join(part.split()) for part in text.strip().split("\n\n"))
