"""The command line's last word on what went wrong: the exit code and the one line."""

from __future__ import annotations

import pytest

from tests.commands.helpers import invoke


def test_a_ctrl_c_python_hands_on_as_another_error_is_still_an_interruption(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On Python 3.10 and 3.11 a Ctrl-C while a class is being created (a module imported in
    the middle of a command) comes out as "RuntimeError: Error calling __set_name__", with
    the KeyboardInterrupt as its cause: still exit 130 and one line, never "internal error"."""
    from clu_doctor import engine

    class Pressed:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    def loading(*_args: object, **_kwargs: object) -> object:
        class Defined:  # what a module imported mid-command defines
            field = Pressed()

        return Defined

    monkeypatch.setattr(engine, "load_rulebook", loading)
    result = invoke("rules", "list")
    assert result.code == 130
    assert result.stderr.strip() == "clu-doctor: interrupted"
