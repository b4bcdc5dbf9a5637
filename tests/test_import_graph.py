"""The package layout holds: ``geo`` imports nothing from ``api``, ``maps``, ``iocmap`` or
``deploy``; no two modules of ours import each other in a circle; and every module
imports in a fresh interpreter.

The graph is read from the source with ``ast`` (every ``import`` / ``from … import``,
including those inside functions), so it also sees the imports a lazy import hides.
(Importing each module in its own interpreter was tried: 86 interpreters loading
geopandas take minutes, for what the graph shows in a second.)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "api", "maps", "iocmap")
FORBIDDEN_FOR_GEO = ("api", "maps", "iocmap", "deploy")
# Cycles known on this branch and being removed elsewhere: geo.errors ↔ geo.ingest.report
# goes with the one status map (issue 10, api/errors.py). Listed entries must still exist,
# so the list cannot outlive the fix: delete an entry when this test says it is gone.
KNOWN_CYCLES: list[list[str]] = []


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic loads these by path, not as package modules
            out[module_name(path)] = path
    return out


def imports_of(path: Path, name: str) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """module → the modules of ours it imports."""
    modules = our_modules()
    return {
        name: {i for i in imports_of(path, name) if i in modules and i != name}
        for name, path in modules.items()
    }


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_geo_imports_nothing_above_it():
    bad = []
    for name, path in our_modules().items():
        if name.split(".")[0] != "geo":
            continue
        for imported in imports_of(path, name):
            if imported.split(".")[0] in FORBIDDEN_FOR_GEO:
                bad.append(f"{name} imports {imported}")
    assert bad == []


def test_no_import_cycle_between_our_modules():
    g = graph()
    assert len(g) > 50 and g["api.app"], "the graph reader found no imports"
    # a package's __init__ importing its own submodules is not a cycle of concern
    for name in g:
        g[name] = {i for i in g[name] if not name.startswith(i + ".")}
    found = cycles(g)
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert gone == [], "fixed: delete these from KNOWN_CYCLES"
    assert [c for c in found if c not in KNOWN_CYCLES] == []


def test_every_module_imports():
    """Each module loads (in a fresh interpreter, so no test has warmed anything up)."""
    names = sorted(our_modules())
    code = (
        "import importlib, sys, traceback\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        print(name, traceback.format_exc().strip().splitlines()[-1])\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, *names], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == "", res.stdout


def test_routers_do_not_import_each_other():
    """A router module (``api/routers/<name>.py``) imports shared pieces from ``api/`` (or the
    routers' private ``_*`` helpers), never another router: routes stay movable and a
    router's private name is nobody else's (issue 23 found five such imports)."""
    import ast
    from pathlib import Path

    routers = Path(__file__).parents[1] / "api" / "routers"
    public = {p.stem for p in routers.glob("*.py") if not p.stem.startswith("_")}
    found = []
    for path in sorted(routers.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[:2] == ["api", "routers"]:
                    named = parts[2:3] or [a.name for a in node.names]
                    found += [f"{path.name} → {n}" for n in named if n in public - {"__init__"}]
    assert not found, found


def test_only_the_app_imports_the_routers():
    """Outside ``api/routers`` only ``api/app.py`` (which mounts them) imports a router or a
    router's private helper: shared pieces live in ``api/`` (issue 23 found ``ogc_respond``
    and ``tile_serving`` reaching into ``routers._ogc_docs`` / ``routers._ogc_query``)."""
    found = [
        f"{name} imports {imported}"
        for name, path in our_modules().items()
        if not name.startswith("api.routers") and name != "api.app"
        for imported in imports_of(path, name)
        if imported.startswith("api.routers")
    ]
    assert found == []
