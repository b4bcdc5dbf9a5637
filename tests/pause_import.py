"""Test-only entry point: run the ``iocmap`` CLI with an import paused at a hook point.

``python -m tests.pause_import <point> import tasks FILE`` behaves like ``iocmap import
tasks FILE`` except that the sheet import stops at ``<point>`` ("staged" or "swapped"),
prints ``iocmap-import-paused-at <point>`` on stderr and blocks reading stdin, so a test
can SIGKILL it mid-transaction. Why here and not in production code: the hook is injected
through ``ImportOptions.hook``; nothing in ``geo`` reads the environment for it.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from geo.ingest import indicators, sheet_import, tasks


def main(argv: list[str]) -> None:
    point, cli_args = argv[0], argv[1:]

    def pause(name: str) -> None:
        if name == point:
            print(f"iocmap-import-paused-at {name}", file=sys.stderr, flush=True)
            sys.stdin.read()  # blocks until the test kills us (or closes our stdin)

    original = sheet_import.run_sheet_import

    def with_pause(engine, path, spec, options):  # type: ignore[no-untyped-def]
        return original(engine, path, spec, replace(options, hook=pause))

    tasks.run_sheet_import = with_pause  # type: ignore[assignment]
    indicators.run_sheet_import = with_pause  # type: ignore[assignment]
    from iocmap.cli import app

    app(args=cli_args, prog_name="iocmap")


if __name__ == "__main__":
    main(sys.argv[1:])
