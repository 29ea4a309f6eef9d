"""``clu-doctor``, ``clu-doctor rules`` and ``clu-doctor site`` without a subcommand."""

from __future__ import annotations

import pytest

from tests.commands.helpers import invoke


@pytest.mark.parametrize("group", [(), ("rules",), ("site",)])
def test_a_group_without_its_subcommand_shows_its_help_and_no_empty_error(
    group: tuple[str, ...],
) -> None:
    result = invoke(*group)
    assert result.code == 0
    assert "Usage: clu-doctor" in result.stdout
    assert "error" not in result.stderr
