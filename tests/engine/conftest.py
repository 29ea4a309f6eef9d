"""Fixtures for the engine tests; the rule texts and helpers live in rulesets.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.rulesets import TREE, VOCABULARY, RulesFactory


@pytest.fixture
def make_rules(tmp_path: Path) -> RulesFactory:
    """Write a rules directory: ``make_rules(tree=..., vocabulary=..., extra={name: text})``."""

    def make(
        tree: str | None = TREE,
        vocabulary: str | None = VOCABULARY,
        extra: dict[str, str] | None = None,
    ) -> Path:
        root = tmp_path / "rules"
        (root / "trees").mkdir(parents=True, exist_ok=True)
        if vocabulary is not None:
            (root / "observations.yaml").write_text(vocabulary, encoding="utf-8")
        if tree is not None:
            (root / "trees" / "10-lamp.yaml").write_text(tree, encoding="utf-8")
        for name, text in (extra or {}).items():
            (root / "trees" / name).write_text(text, encoding="utf-8")
        return root

    return make
