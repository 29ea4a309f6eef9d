"""The RS-485 bus layer: frame codecs, line settings, the safe serial link, device profiles, probes.

Knows nothing of rules or terminals. Import submodules directly (``clu_doctor.bus.codecs.ascii``...);
this package deliberately imports nothing so that commands without a bus start fast.
"""
