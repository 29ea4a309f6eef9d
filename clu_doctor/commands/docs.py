"""``clu-doctor docs``: the documentation and the monitoring files that come with the tool.

A gateway or a laptop at a site often has no network; the guides (monitoring setup, the
simulator, the rules format) and the files to install (Prometheus alert rules, a Grafana
dashboard) ship inside the package, and this command lists them, prints one, or gives its path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from clu_doctor.commands import flow
from clu_doctor.errors import UsageError
from clu_doctor.i18n import N_, _

HELP = N_("""Show the documentation and monitoring files installed with clu-doctor.

Without a topic: each topic, what it is, and where the file is. With one: the file itself, to
read or to install (clu-doctor docs alerts > /etc/prometheus/rules/clu-doctor.yml).
""")

EPILOG = N_("""Examples:

  clu-doctor docs

  clu-doctor docs monitoring | less

  clu-doctor docs alerts > /etc/prometheus/rules/clu-doctor.yml

  clu-doctor docs grafana-dashboard --path
""")


def topics() -> dict[str, Path]:
    """Topic name (the file's name without its extension) -> file."""
    from clu_doctor.resources import docs_dir, monitoring_dir

    found: dict[str, Path] = {}
    for folder, patterns in ((docs_dir(), ("*.md",)), (monitoring_dir(), ("*.yml", "*.json"))):
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                found.setdefault(path.name.split(".")[0], path)
    return found


def complete_topic(incomplete: str) -> list[str]:
    try:
        return [name for name in topics() if name.startswith(incomplete)]
    except Exception:  # completion must never print a traceback into the shell
        return []


def summary(path: Path) -> str:
    """A file's one-line description: a Markdown file's title, a YAML file's first comment,
    a dashboard's title."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return next((line.lstrip("# ").strip() for line in text.splitlines() if line), "")
    if path.suffix == ".json":
        import json  # only for a dashboard's title

        return f"Grafana dashboard: {json.loads(text).get('title', path.stem)}"
    first = next((line for line in text.splitlines() if line.startswith("#")), "")
    return first.lstrip("# ").strip()


def docs(
    topic: Annotated[
        str | None,
        typer.Argument(help=_("What to show (see the list)."), autocompletion=complete_topic),
    ] = None,
    path_only: Annotated[
        bool, typer.Option("--path", help=_("Print where the file is, not the file."))
    ] = False,
) -> int:
    found = topics()
    if topic is None:
        width = max((len(name) for name in found), default=0)
        for name, where in found.items():
            print(f"{name:<{width}}  {summary(where)}\n{'':<{width}}  {where}")
        return 0
    chosen = found.get(topic)
    if chosen is None:
        from clu_doctor.suggest import did_you_mean

        raise UsageError(
            f"no documentation topic {topic!r}{did_you_mean(topic, found)}",
            hint="'clu-doctor docs' lists them: " + ", ".join(found),
        )
    if path_only:
        print(chosen)
    else:
        sys.stdout.write(chosen.read_text(encoding="utf-8"))
    return 0


def register(app: typer.Typer) -> None:
    app.command(help=flow(_(HELP)), epilog=_(EPILOG))(docs)
