"""Write or check docs/openapi.json: `python -m ikan_platform.openapi_doc [--check] [PATH]`.

The document is generated from the app itself (routes, pydantic schemas, problem responses), so
the committed copy is what the console and any other client can rely on; a test fails when it
drifts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def build_openapi() -> dict[str, Any]:
    """The OpenAPI document of an app built only for its description (no database is touched)."""
    from ikan_platform.app import create_app
    from ikan_platform.settings import PlatformSettings

    settings = PlatformSettings(database_url="sqlite://", token_secret="openapi-only")
    app = create_app(settings)
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys would reorder paths, so keep FastAPI's order and indent it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document, or with --check exit 1 when the committed one differs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(build_openapi())
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is out of date: run python -m ikan_platform.openapi_doc")
            return 1
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
