"""Passive listening: the bus as the CLU drives it, without transmitting.

* :mod:`.session` - :func:`listen`, one session on an open port;
* :mod:`.analyser` - :class:`TrafficAnalyser`, frames into a :class:`ListenReport`;
* :mod:`.report` - the frozen results;
* :mod:`.verdicts` - what the traffic means (its docstring states the statistical rules);
* :mod:`.detect` - finding the line settings and framing from traffic alone;
* :mod:`.recording` - saving and replaying what was heard.
"""
