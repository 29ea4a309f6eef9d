"""One module per command group; each exposes ``register(app)``. Kept thin: parse, call, render.

Modules import heavy dependencies (rich, serial, the engine) inside the command bodies, so that
building the command tree at start-up stays cheap.
"""
