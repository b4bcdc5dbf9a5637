"""MkDocs hook: the configuration page's table, generated from ``api.settings.Settings``.

Why generated: the table used to be kept by hand in three places (README, Settings,
.env.example) and drifted. Here every field of Settings is one row (its environment
variable, type, default and description) and nothing else is, so the page cannot drift.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

MARKER = "<!-- settings-table -->"


def settings_rows() -> list[tuple[str, str, str, str]]:
    """(environment variable(s), type, default, description) per Settings field."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from pydantic_core import PydanticUndefined

    from api.settings import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    out = []
    for name, field in Settings.model_fields.items():
        env = f"`{prefix}{name.upper()}`"
        alias = field.validation_alias
        if alias is not None and hasattr(alias, "choices"):
            extra = [c for c in alias.choices if isinstance(c, str) and c.isupper()]
            env = ", ".join(f"`{c}`" for c in dict.fromkeys([f"{prefix}{name.upper()}", *extra]))
        kind = getattr(field.annotation, "__name__", None) or str(field.annotation)
        kind = kind.replace("typing.", "").replace("NoneType", "None")
        if field.default is not PydanticUndefined:
            default = "unset" if field.default is None else f"`{field.default!r}`"
        elif field.default_factory is not None:
            default = f"`{field.default_factory()!r}`"
        else:
            default = "required"
        text = (field.description or "").replace("|", "\\|").replace("\n", " ")
        out.append((env, f"`{kind}`", default, text))
    return out


def settings_table() -> str:
    head = "| variable | type | default | what |\n|---|---|---|---|\n"
    return head + "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in settings_rows())


def env_example() -> str:
    """The text of ``.env.example``: every setting, commented out at its default, with its
    description (generated like the table: ``python -m scripts.docs_hooks > .env.example``;
    tests/test_docs.py fails when the file differs)."""
    lines = [
        "# iocmap settings: copy to .env and uncomment what you change. Generated from",
        "# api/settings.py (python -m scripts.docs_hooks > .env.example); the documentation's",
        "# configuration page has the same list.",
    ]
    for env, _kind, default, text in settings_rows():
        var = env.split(",")[0].strip("`")
        value = "" if default in ("unset", "required") else default.strip("`").strip("'")
        plain = text.replace("\\|", "|")
        lines += ["", *textwrap.wrap(plain, 94, initial_indent="# ", subsequent_indent="# ")]
        lines.append(f"# {var}={value}")
    lines += [
        "",
        "# The project-local PostGIS of `make db` (read by `iocmap db`, not by the server):",
        "# IOCMAP_PG_PORT=54329",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(env_example())


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs API
    if MARKER in markdown:
        return markdown.replace(MARKER, settings_table())
    return markdown
