"""Bus probes: listen-before-talk, address scan, duplicate-address detection, end-of-bus check.

The public face of the probes; the work is split over

* :mod:`clu_doctor.bus.probes_base` - :func:`listen_before_talk` (never transmits),
  :func:`require_quiet` and :class:`BusBusy` (the gate every active probe passes unless the
  caller forces it), one recorded :class:`Exchange`, the :class:`AdaptiveTimeout`;
* :mod:`clu_doctor.bus.probes_scan` - :func:`scan`;
* :mod:`clu_doctor.bus.probes_duplicates` - :func:`find_duplicates` (its docstring states the
  statistical rules), :func:`bisect_candidates` for the guided next step;
* :mod:`clu_doctor.bus.probes_chain` - :func:`analyse_chain`, a pure function.

The probes know no rules, no terminals and no site file: they take plain arguments (a link, a
device profile, addresses, the chain as addresses in BUS IN -> BUS OUT order, the adapter's
position) and return frozen results with ``to_dict()`` for JSON. Every transmission goes
through :class:`~clu_doctor.bus.link.Link`, which sends read requests only.
"""

from __future__ import annotations

from clu_doctor.bus.probes_base import (
    ANSWERED,
    DEFAULT_IDLE_S,
    DEFAULT_MAX_WAIT_S,
    OUTCOMES,
    AdaptiveTimeout,
    BusBusy,
    Exchange,
    LbtResult,
    LbtVerdict,
    Outcome,
    exchange,
    listen_before_talk,
    require_quiet,
)
from clu_doctor.bus.probes_chain import (
    CHAIN_VERDICTS,
    ChainPosition,
    ChainResult,
    ChainVerdict,
    analyse_chain,
)
from clu_doctor.bus.probes_duplicates import (
    AddressDuplicates,
    AddressVerdict,
    Background,
    Clusters,
    DuplicateResult,
    DuplicateVerdict,
    SeenIdentity,
    bisect_candidates,
    find_duplicates,
    hypergeometric_tail,
    next_step,
    two_clusters,
)
from clu_doctor.bus.probes_scan import AddressScan, Progress, ScanResult, scan, scan_order

__all__ = [
    "ANSWERED",
    "CHAIN_VERDICTS",
    "DEFAULT_IDLE_S",
    "DEFAULT_MAX_WAIT_S",
    "OUTCOMES",
    "AdaptiveTimeout",
    "AddressDuplicates",
    "AddressScan",
    "AddressVerdict",
    "Background",
    "BusBusy",
    "ChainPosition",
    "ChainResult",
    "ChainVerdict",
    "Clusters",
    "DuplicateResult",
    "DuplicateVerdict",
    "Exchange",
    "LbtResult",
    "LbtVerdict",
    "Outcome",
    "Progress",
    "ScanResult",
    "SeenIdentity",
    "analyse_chain",
    "bisect_candidates",
    "exchange",
    "find_duplicates",
    "hypergeometric_tail",
    "listen_before_talk",
    "next_step",
    "require_quiet",
    "scan",
    "scan_order",
    "two_clusters",
]
