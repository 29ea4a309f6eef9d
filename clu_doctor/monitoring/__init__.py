"""The unattended check, in one place.

* :mod:`.run` - one check of a site: listen (and probe where allowed), walk the rules, apply
  the site's ignores, under one deadline (:mod:`.deadline`);
* :mod:`.result` - :class:`~.result.CheckResult`, what a check found, per station;
* :mod:`.publish` - afterwards: the history and the node-exporter metrics file;
* :mod:`.history` - the site's past checks (SQLite) and what they say: silences, flapping;
* :mod:`.ignores` - acknowledged findings from ``site.yaml``'s ``ignore:`` entries;
* :mod:`.textfile` - atomic writes for node_exporter's textfile collector.
"""
