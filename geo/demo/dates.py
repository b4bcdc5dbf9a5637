"""The demo's two dates, in a module of their own so the figure draws (``figures``) and
the history that shapes them (``history``) share them without importing each other."""

from __future__ import annotations

import datetime as dt

REPORTING_DATE = dt.date(2025, 11, 13)  # the published figures' date (DOMAIN.md)
YEAR = 2025
