"""No blocking database call inside an ``async def`` of the web layer: it would stall the
event loop (and /healthz) for every client of the worker. Sync work goes through the
database lane (``db_gate(request).run``), ``run_in_threadpool`` or a plain ``def`` route.

The check reads the source: inside an async function (not in a nested ``def``/``lambda``,
which run on a thread), a call of a method that opens or uses a connection, or of one of
our helpers known to do so synchronously, fails this test and names the place."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKING_METHODS = {"begin", "connect", "execute", "scalar", "scalars", "commit"}
BLOCKING_HELPERS = {
    "require_writer",
    "require_admin",
    "principal",
    "authenticate",
    "import_principal",
}


def _offences(tree: ast.AST, path: Path) -> list[str]:
    found: list[str] = []

    class Visit(ast.NodeVisitor):
        def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
            for stmt in node.body:
                self._scan(stmt, node.name)

        def _scan(self, node: ast.AST, where: str) -> None:
            if isinstance(node, ast.FunctionDef | ast.Lambda | ast.AsyncFunctionDef):
                if isinstance(node, ast.AsyncFunctionDef):
                    self.visit_AsyncFunctionDef(node)
                return  # a nested sync def runs on a thread
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                awaited = False
                if isinstance(f, ast.Attribute) and name in BLOCKING_METHODS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {where}: .{name}()")
                elif name in BLOCKING_HELPERS and not awaited:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {where}: {name}()")
            for child in ast.iter_child_nodes(node):
                if isinstance(node, ast.Await) and isinstance(child, ast.Call):
                    # awaited calls are coroutines: scan their arguments only
                    for arg in [*child.args, *(k.value for k in child.keywords)]:
                        self._scan(arg, where)
                    continue
                self._scan(child, where)

    Visit().visit(tree)
    return found


def test_no_sync_database_call_in_an_async_function_of_the_web_layer():
    offences: list[str] = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        offences += _offences(ast.parse(path.read_text(encoding="utf-8")), path)
    assert offences == []


def test_the_check_finds_one():
    src = "async def route(request):\n    with engine.begin() as c:\n        pass\n"
    assert _offences(ast.parse(src), ROOT / "api" / "x.py")
    ok = "async def route(request):\n    def build():\n        engine.begin()\n    return 1\n"
    assert not _offences(ast.parse(ok), ROOT / "api" / "x.py")
