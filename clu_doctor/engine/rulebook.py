"""The rulebook: a validated vocabulary, its layers and its trees, and the one way to load it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clu_doctor import resources
from clu_doctor.engine import cache, walk
from clu_doctor.engine.diagnosis import Diagnosis
from clu_doctor.engine.model import Case, Finding, Layer, LayerSpec, Tree
from clu_doctor.engine.observations import (
    AnswerSource,
    Observation,
    ObservationSpec,
    Vocabulary,
)
from clu_doctor.errors import FileProblemError, Location, Problem

if TYPE_CHECKING:
    from clu_doctor.pofile import Catalogue

VOCABULARY_FILE = "observations.yaml"
LAYERS_FILE = "layers.yaml"
TREES_DIR = "trees"
#: The command line adds where the format is described (the engine names no command).
RULES_HINT = "the rules are invalid; the rules format documentation describes the format"


class Rulebook:
    """Validated trees (walked in this order), the vocabulary they ask from, and the layers
    their findings belong to.

    Build one with :func:`load_rulebook`; it is not changed after that.
    """

    __slots__ = ("findings", "language", "layers", "source", "trees", "untranslated", "vocabulary")

    def __init__(
        self,
        vocabulary: Vocabulary,
        trees: Sequence[Tree],
        layers: Mapping[Layer, LayerSpec],
        source: str = "",
    ) -> None:
        self.vocabulary = vocabulary
        self.trees: tuple[Tree, ...] = tuple(trees)
        self.layers: Mapping[Layer, LayerSpec] = dict(layers)
        self.source = source
        self.findings: Mapping[str, Finding] = {
            fid: finding for tree in self.trees for fid, finding in tree.findings.items()
        }
        #: The language of the texts (see :mod:`.texts`), and the texts left in English in it
        #: (by context: ``missing``, ``stale`` or ``broken``).
        self.language = "en"
        self.untranslated: Mapping[str, str] = {}

    def __repr__(self) -> str:
        return f"Rulebook({self.source!r}, trees={[t.id for t in self.trees]})"

    def untranslated_findings(self) -> dict[str, str]:
        """The findings with a text shown in English in this rulebook's language, each with
        why (``missing``, ``stale`` or ``broken``); empty in English or when all is
        translated."""
        out: dict[str, str] = {}
        for context, state in self.untranslated.items():
            kind, _, rest = context.partition(" ")
            if kind == "finding":
                out.setdefault(rest.split(" ")[0], state)
        return out

    def next_question(
        self, observations: walk.Observations, *, include_probes: bool = False
    ) -> ObservationSpec | None:
        """The next observation to ask a person for, or ``None`` when every tree is decided.

        Deterministic: the same answers always give the same question, so "go back" is just
        dropping the last answer and asking again. Questions of a group (``groups:`` in the
        vocabulary) come after every question outside one. With ``include_probes``,
        observations a bus probe supplies are returned too, at the point the walk needs them.
        The question's text names what the answers so far know (``{charge_points}``: the
        site's labels).
        """
        spec = walk.next_question(
            self.trees, self.vocabulary, observations, include_probes=include_probes
        )
        if spec is None or "{" not in spec.question:
            return spec
        return spec._replace(question=self.vocabulary.question(spec.key, observations))

    def general(self, finding: Finding) -> Finding:
        """``finding`` as the rules describe it in general, for a reference or ``explain``: its
        ``{facts}`` in their default words ("a silent station"), as no run supplied them."""

        def fill(text: str | None) -> str | None:
            return None if text is None else self.vocabulary.fill(text, {})

        return finding._replace(
            title=self.vocabulary.fill(finding.title, {}),
            cause=self.vocabulary.fill(finding.cause, {}),
            remedy=tuple(self.vocabulary.fill(step, {}) for step in finding.remedy),
            verify=fill(finding.verify),
            escalate=fill(finding.escalate),
            partial_title=fill(finding.partial_title),
        )

    def diagnose(self, observations: walk.Observations, *, asked: bool = True) -> Diagnosis:
        """Walk every tree; missing observations count as ``unknown`` (source ``default``).
        ``asked=False``: nobody was asked anything, so what only a person could have decided
        is left out rather than reported undecided (``listen``, ``scan``)."""
        return walk.diagnose(
            self.trees, self.vocabulary, self.findings, observations, self.layers, asked=asked
        )

    def case_observations(self, case: Case) -> dict[str, Observation]:
        """A tree case's observations, parsed as if they came from an answers file."""
        return {
            str(key): self.vocabulary.parse(
                str(key),
                raw,
                AnswerSource.ANSWERS_FILE,
                detail=str(case.where.at(f"observe:{key}")),
            )
            for key, raw in case.observe.items()
        }

    def run_case(self, case: Case) -> Diagnosis:
        return self.diagnose(self.case_observations(case))

    def failing_cases(self) -> list[Problem]:
        """Every tree case whose findings or status differ from what it expects."""
        problems = []
        for tree in self.trees:
            for case in tree.cases:
                diagnosis = self.run_case(case)
                got, want = sorted(diagnosis.finding_ids), sorted(case.findings)
                if got != want or diagnosis.status is not case.status:
                    problems.append(
                        Problem(
                            case.where.at(),
                            f"case {case.name!r} gives {', '.join(got) or 'no finding'} "
                            f"({diagnosis.status.value})",
                            expected=f"{', '.join(want) or 'no finding'} ({case.status.value})",
                        )
                    )
        return problems


def load_rulebook(
    path: Path | str | None = None, *, fresh: bool = False, language: str | None = None
) -> Rulebook:
    """The rulebook (see :func:`load_english`) with its texts in ``language``: the run's
    language (:func:`clu_doctor.i18n.language`) when ``None``. The translations are the rules
    directory's own (``locale/<lang>.po``), else the bundled ones (see :mod:`.texts`).

    A rules directory in another language is kept translated as the English one is kept (see
    :mod:`.cache`), keyed on its files and the catalogue too: the bundled rules' translations
    are shipped with the package, others cached per user. An English run reads no catalogue.
    """
    from clu_doctor import i18n

    code = i18n.language() if language is None else language
    if code == i18n.ENGLISH:
        return load_english(path, fresh=fresh)
    if fresh:
        return _translate(load_english(path, fresh=True), code, path)
    if path is None:
        return _bundled_translation(code)
    root = Path(path)
    if root.is_dir():
        return _kept_translation(root, code)
    return _translate(load_english(root), code, root)


_TRANSLATED: dict[str, Rulebook] = {}


def _bundled_translation(language: str) -> Rulebook:
    """The bundled rules in ``language``, loaded once per process."""
    if language not in _TRANSLATED:
        _TRANSLATED[language] = _kept_translation(resources.rules_dir(), language)
    return _TRANSLATED[language]


def _catalogue_file(own: Path | None, language: str) -> Path | None:
    """The catalogue that translates a rules directory: its own (``own``), else the bundled
    one; None when there is neither."""
    candidates = [resources.rules_catalogue(own, language)] if own is not None else []
    candidates.append(resources.rules_catalogue(resources.rules_dir(), language))
    return next((c for c in candidates if c.is_file()), None)


def _translate(english: Rulebook, language: str, path: Path | str | None) -> Rulebook:
    from clu_doctor import pofile

    own = Path(path) if path is not None and Path(path).is_dir() else None
    found = _catalogue_file(own, language)
    # A catalogue that cannot be read leaves the texts in English; `rules check` says why.
    try:
        catalogue = pofile.read(found) if found is not None else None
    except FileProblemError:
        catalogue = None
    return in_language(english, language, catalogue)


def in_language(english: Rulebook, language: str, catalogue: Catalogue | None) -> Rulebook:
    """``english`` with its texts from ``catalogue`` (see :mod:`.texts`), in ``language``."""
    from clu_doctor.engine.texts import translate

    parts = translate(english, catalogue)
    translated = Rulebook(parts.vocabulary, parts.trees, parts.layers, english.source)
    translated.language = language
    translated.untranslated = parts.untranslated
    return translated


def _kept_translation(root: Path, language: str) -> Rulebook:
    """The rules directory ``root`` in ``language``: as shipped with the package (the bundled
    rules), else as cached for this user, else translated now (and cached)."""
    bundled = root == resources.rules_dir()
    vocabulary_path, tree_paths = _rule_files(root)
    key: tuple[Any, ...] = ()
    try:
        catalogue = _catalogue_file(None if bundled else root, language)
        rule_files = [vocabulary_path, _layers_file(root), *tree_paths]
        if bundled and catalogue is not None:
            shipped = cache.read(
                resources.shipped_translation(language),
                _shipped_translation_key(root, language),
                shipped=True,
            )
            if shipped is not None:
                return _from_translated_payload(shipped, root, language)
        key = cache.fingerprint([*rule_files, *([catalogue] if catalogue else [])])
        where = cache.cache_file(root, language)
    except OSError:
        where = None  # unreadable files: let the full load report them
    if where is not None:
        stored = cache.read(where, key)
        if stored is not None:
            return _from_translated_payload(stored, root, language)
    english = _bundled(root) if bundled else _load_cached(root)
    translated = _translate(english, language, None if bundled else root)
    if where is not None:
        cache.write(where, key, _translated_payload(translated))
    return translated


def _translated_payload(rulebook: Rulebook) -> tuple[_Payload, dict[str, str]]:
    return (_payload(rulebook), dict(rulebook.untranslated))


def _from_translated_payload(
    kept: tuple[_Payload, dict[str, str]], root: Path, language: str
) -> Rulebook:
    payload, untranslated = kept
    rulebook = _from_payload(payload, root)
    rulebook.language = language
    rulebook.untranslated = untranslated
    return rulebook


def _shipped_translation_key(root: Path, language: str) -> tuple[Any, ...]:
    """The key of a translation shipped with the package: the bundled rule files and the
    language's catalogue, by their place in the rules directory."""
    vocabulary_path, tree_paths = _rule_files(root)
    catalogue = resources.rules_catalogue(root, language)
    files = [vocabulary_path, root / LAYERS_FILE, *tree_paths, catalogue]
    return cache.fingerprint(files, root)


def load_english(path: Path | str | None = None, *, fresh: bool = False) -> Rulebook:
    """Load and validate a rulebook; every problem in every file is raised together.

    ``path`` is a rules directory (``observations.yaml`` plus ``trees/*.yaml``, trees walked
    in file-name order, and optionally its own ``layers.yaml``, else the bundled one), a single
    tree file (checked against the bundled vocabulary and layers), or ``None`` for the bundled
    rules. A directory's rules, once validated, are kept (see :mod:`.cache`): the bundled ones
    as shipped with the package, else in the user's cache, keyed on the files' contents.
    ``fresh`` reads and validates the files whatever is kept (``rules check``).
    """
    if path is None:
        root = resources.rules_dir()
        return _load_files(root) if fresh else _bundled(root)
    root = Path(path)
    if root.is_dir():
        return _load_files(root) if fresh else _load_cached(root)
    if root.exists():
        vocabulary_path = resources.rules_dir() / VOCABULARY_FILE
        return _load(root, vocabulary_path, _layers_file(root), [root])
    raise FileProblemError.at(
        Location.of(root),
        "no such file or directory",
        expected="a rules directory or tree file",
    )


def _load_files(root: Path) -> Rulebook:
    """A rules directory read and validated from its files."""
    vocabulary_path, tree_paths = _rule_files(root)
    problems = _missing_parts(root, vocabulary_path, tree_paths)
    if problems:
        raise FileProblemError(problems, RULES_HINT)
    return _load(root, vocabulary_path, _layers_file(root), tree_paths)


def _rule_files(root: Path) -> tuple[Path, list[Path]]:
    return root / VOCABULARY_FILE, _yaml_files(root / TREES_DIR)


def _yaml_files(folder: Path) -> list[Path]:
    """``sorted(folder.glob("*.yaml"))`` without the pattern machinery (every run lists the
    trees to check the kept rulebook against them); a folder that cannot be listed has none,
    as for ``glob``."""
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if entry.name.endswith(".yaml")]
    except OSError:
        return []
    return sorted(folder / name for name in names)


def _layers_file(root: Path) -> Path:
    """The rules directory's own layers, else the bundled ones (the site's physics)."""
    own = root / LAYERS_FILE
    return own if root.is_dir() and own.is_file() else resources.rules_dir() / LAYERS_FILE


_BUNDLED: dict[Path, Rulebook] = {}


def _bundled(root: Path) -> Rulebook:
    """The bundled rulebook, loaded once per process (it does not change while we run)."""
    if root not in _BUNDLED:
        _BUNDLED[root] = _load_cached(root)
    return _BUNDLED[root]


_Payload = tuple[Any, ...]


def _payload(rulebook: Rulebook) -> _Payload:
    return (
        dict(rulebook.vocabulary.specs),
        dict(rulebook.vocabulary.probes),
        dict(rulebook.vocabulary.groups),
        dict(rulebook.vocabulary.facts),
        dict(rulebook.layers),
        rulebook.trees,
    )


def _from_payload(payload: _Payload, root: Path) -> Rulebook:
    specs, probes, groups, facts, layers, trees = payload
    return Rulebook(Vocabulary(specs, probes, groups, facts), trees, layers, str(root))


def _shipped_key(root: Path) -> tuple[Any, ...]:
    """The key of the shipped rulebook: the bundled files by their place in the rules
    directory (layers.yaml is always the bundled one)."""
    vocabulary_path, tree_paths = _rule_files(root)
    return cache.fingerprint([vocabulary_path, root / LAYERS_FILE, *tree_paths], root)


def _load_cached(root: Path) -> Rulebook:
    vocabulary_path, tree_paths = _rule_files(root)
    layers_path = _layers_file(root)
    bundled = root == resources.rules_dir()
    if bundled:
        try:
            shipped = cache.read(resources.shipped_rulebook(), _shipped_key(root), shipped=True)
        except OSError:
            shipped = None  # unreadable files: let the full load report them
        if shipped is not None:
            return _from_payload(shipped, root)
    where = cache.cache_file(root)
    try:
        key = cache.fingerprint([vocabulary_path, layers_path, *tree_paths])
    except OSError:
        where = None  # unreadable files: let the full load report them
    if where is not None:
        stored = cache.read(where, key)
        if stored is not None:
            return _from_payload(stored, root)
    rulebook = _load_files(root)
    if where is not None:
        cache.write(where, key, _payload(rulebook))
    return rulebook


def build_shipped(destination: Path, root: Path | None = None) -> Rulebook:
    """Validate the bundled rules (or ``root``'s) and write them to ``destination`` as the
    rulebook shipped in the package; raise if they are invalid or a tree case fails."""
    rules = root if root is not None else resources.rules_dir()
    rulebook = _load_files(rules)
    failing = rulebook.failing_cases()
    if failing:
        raise FileProblemError(failing, RULES_HINT)
    cache.store(destination, _shipped_key(rules), _payload(rulebook))
    destination.chmod(0o644)  # installed with the package: readable by every user
    return rulebook


def build_shipped_translations(folder: Path, root: Path | None = None) -> list[Path]:
    """Translate the bundled rules (or ``root``'s) into every language with a catalogue and
    write each to ``folder`` as shipped with the package (see :func:`build_shipped`); raise if
    the rules are invalid or a catalogue cannot be read. Returns the files written."""
    from clu_doctor import i18n, pofile

    rules = root if root is not None else resources.rules_dir()
    english = _load_files(rules)
    written = []
    for language in i18n.TRANSLATED:
        catalogue = resources.rules_catalogue(rules, language)
        if not catalogue.is_file():
            continue
        translated = in_language(english, language, pofile.read(catalogue))
        destination = folder / resources.SHIPPED_TRANSLATION.format(language=language)
        cache.store(
            destination,
            _shipped_translation_key(rules, language),
            _translated_payload(translated),
        )
        destination.chmod(0o644)  # installed with the package: readable by every user
        written.append(destination)
    return written


def _load(
    root: Path, vocabulary_path: Path, layers_path: Path, tree_paths: Sequence[Path]
) -> Rulebook:
    """Read every file (shape pass), then validate (meaning pass); raise all problems at once."""
    # A cold cache only: a cached rulebook needs neither the reader nor the validator.
    from clu_doctor.engine.load import read_layers, read_tree, read_vocabulary
    from clu_doctor.engine.validate import validate

    vocabulary, problems = read_vocabulary(vocabulary_path)
    layers, layer_problems = read_layers(layers_path)
    problems += layer_problems
    trees: list[Tree] = []
    shapeless = 0
    for tree_path in tree_paths:
        tree, tree_problems = read_tree(tree_path)
        problems += tree_problems
        if tree is None:
            shapeless += 1
        else:
            trees.append(tree)
    if vocabulary is not None and layers is not None:
        # Cross-file checks need every file: a reference into a broken file is not an error.
        problems += validate(vocabulary, trees, layers, across=shapeless == 0)
    if problems or vocabulary is None or layers is None:
        raise FileProblemError(problems, RULES_HINT)
    return Rulebook(vocabulary, trees, layers, str(root))


def _missing_parts(root: Path, vocabulary: Path, trees: list[Path]) -> list[Problem]:
    problems = []
    if not vocabulary.is_file():
        problems.append(
            Problem(
                Location.of(root),
                f"no {VOCABULARY_FILE} in the rules directory",
                expected="the observation vocabulary",
            )
        )
    if not trees:
        problems.append(
            Problem(
                Location.of(root / TREES_DIR),
                "no tree files (*.yaml)",
                expected="at least one decision tree",
            )
        )
    return problems
