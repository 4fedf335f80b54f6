"""Partners' linked data: check it (``check``, with remembered ``verdicts``), add and remove it as named graphs
of the persistent store (``registry``), loading it on every core (``loader``).
"""
