"""Exit codes, following the monitoring-plugin convention (Nagios/Icinga/Sensu).

0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN ("could not check"). A usage error is UNKNOWN too:
to a monitoring system exit 2 means CRITICAL, so a typo in a cron line must never page someone
about a site that is fine. Ctrl-C ends with the shell's customary 130.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
    INTERRUPTED = 130
