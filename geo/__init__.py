"""The domain: PostGIS schema, imports, the read model and the demo data; no web code.

Rooms: ``geo.ingest`` (bringing data in), ``geo.read`` (every SELECT), ``geo.demo`` (the
demo generator). Shared by all three: ``db`` (engine), ``models`` + ``migrations``
(schema), ``text`` (Vietnamese normalisation), ``official`` (the official unit list and
legacy codes), ``crs`` (VN-2000, used both to read files and to serve ``crs=``),
``tokens`` (who may change what) and ``errors``.

``geo`` never imports ``api``, ``maps``, ``iocmap`` or ``deploy``.
"""
