"""The demo generator: approximate geometry (``geometry``), the published figures
(``figures``) and the loader that writes them (``loader``).

Who may import it: ``iocmap`` (``iocmap demo``), ``bench``, ``deploy`` and tests. It uses
``geo.official`` for the unit list and ``geo.ingest`` to write; nothing in ``geo.ingest`` or
``geo.read`` imports it.
"""
