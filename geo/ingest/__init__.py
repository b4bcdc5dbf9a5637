"""Everything that brings data in: files → checked, repaired, normalised rows → PostGIS.

What lives here: the import report and transaction (``report``); boundary imports —
``boundaries`` (orchestration only), ``vector`` (sniffed formats, archives, layers, fields,
limits), ``reproject`` (CRS), ``unitfields`` (codes, names, figures, kept columns),
``repair`` (fallback chain), ``coverage`` (clean coverage, grid), ``provinces`` (union of
communes, province levels), ``plan`` (compare, stage, swap), ``topology`` (display
levels); legacy text encodings (``encodings``); sheets — the bounded file reader
(``sheet_files``), cell parsing (``sheets``), the one sheet-import skeleton
(``sheet_import``) and the kinds that plug into it (``tasks`` with ``task_cells``,
``indicators``); the code resolver (``resolve``) and the bulk writer (``store``).

Who may import it: ``api``, ``iocmap``, ``geo.demo`` (which writes through ``store``) and
tests. It imports only ``geo``'s shared modules (``db``, ``models``, ``text``, ``official``,
``crs``, ``errors``), never ``geo.read``, ``api``, ``maps`` or ``iocmap``.
"""
