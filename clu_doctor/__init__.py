"""clu-doctor: field diagnostics for DEFA CLU (Cloud Link Unit) EV-charging sites."""

__version__ = "0.1.0"
