"""Bus probes: listen-before-talk, address scan, duplicate-address detection.

* :mod:`.base` - :func:`listen_before_talk` (never transmits), :func:`require_quiet` and
  :class:`BusBusy` (the gate every active probe passes unless the caller forces it), one
  recorded :class:`Exchange`, the :class:`AdaptiveTimeout`;
* :mod:`.scan` - :func:`scan`;
* :mod:`.duplicates` - :func:`find_duplicates` (its docstring states the statistical rules),
  :func:`bisect_candidates` for the guided next step.

The end-of-bus check is :func:`clu_doctor.bus.chain.analyse_chain`, a pure function over the
chain. The probes know no rules, no terminals and no site file: they take plain arguments (a
link, a device profile, addresses, the chain, the adapter's position) and return frozen results
with ``to_dict()`` for JSON. Every transmission goes through :class:`~clu_doctor.bus.link.Link`,
which sends read requests only.
"""
