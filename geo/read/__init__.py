"""The read model: the only home of SELECTs (units, progress, indicators, tiles, extents).

What lives here: the status rule and aggregates (``progress``), GeoJSON layers
(``features``), task lists, history, indicators and rankings (``queries``), unit search
by name (``search``), the list of imports (``imports``).
Routers and ``maps`` call these functions and hold no SQL of their own.

Who may import it: ``api``, ``maps``, ``iocmap`` and tests. It imports only ``geo``'s shared
modules, never ``geo.ingest``, ``api``, ``maps`` or ``iocmap``.
"""
