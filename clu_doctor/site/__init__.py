"""The site file (``site.yaml``): the model, its reader, and what the file alone says.

* :mod:`.model` - :class:`Site`, stations, meters, thresholds, ignores;
* :mod:`.reader` - :func:`load_site`, every problem with file and line;
* :mod:`.facts` - configuration facts checked against the manual's limits.
"""
