"""The compose stack's one-shot job: migrate, then seed the demo data into an empty database.

Why "only when empty": the job runs on every `docker compose up`; once official boundaries
and tasks are imported, re-seeding would wipe them. ``IOCMAP_SEED=none`` skips the demo.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import text


def main() -> int:
    from geo.db import database_url, make_engine
    from geo.migrate import upgrade

    url = database_url()
    upgrade(url)
    print("schema up to date", flush=True)
    mode = os.environ.get("IOCMAP_SEED", "demo")
    if mode not in ("demo", "none"):
        print(f"IOCMAP_SEED must be 'demo' or 'none', not {mode!r}", file=sys.stderr)
        return 2
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            units = conn.execute(text("select count(*) from admin_unit")).scalar_one()
        if units:
            print(f"database holds {units} units: nothing seeded", flush=True)
        elif mode == "demo":
            from geo.demo.loader import load_demo

            print(f"demo data loaded: {load_demo(engine)}", flush=True)
        else:
            print("empty database left empty (IOCMAP_SEED=none)", flush=True)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
