"""The views' HTML documents: self-contained pages a host renders in a sandboxed frame.

Each document inlines the built bundle (`dist/views.js`: ext-apps' `App` and the console's components), its
CSS and the console's icon sprite, so the frame fetches nothing. Its Content-Security-Policy allows exactly that
script (by its sha256) and no network at all; `VIEW_CSP` asks the host for no domain either. Built once per process.
`bash scripts/build_views.sh` makes dist/ (with THIRD_PARTY_NOTICES.txt, the licences of the bundled npm code).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Final

from mcp.server.apps import ResourceCsp

DIST: Final = Path(__file__).parent / "dist"
# No domain of any kind: the views reach nothing but their host, over postMessage.
VIEW_CSP: Final = ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[])
_TITLES: Final = {"week": "Week", "batch-preview": "Batch preview"}


def week_document() -> str:
    """The week view (`ui://calendar/week.html`)."""
    return _document("week")


def preview_document() -> str:
    """The batch preview with its Confirm and Decline (`ui://calendar/batch-preview.html`)."""
    return _document("batch-preview")


def csp_hash(text: str) -> str:
    """A CSP source for exactly this inline text: 'sha256-<base64 of its UTF-8 digest>'."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script: str, style: str) -> str:
    """Only the inline script and style element given (and style attributes); nothing fetched, posted or framed."""
    return "; ".join([
        "default-src 'none'",
        f"script-src {csp_hash(script)}",
        f"style-src {csp_hash(style)}",
        f"style-src-elem {csp_hash(style)}",
        "style-src-attr 'unsafe-inline'",
        "img-src data:",
        "connect-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ])


@cache
def _document(view: str) -> str:
    script, style = _inline(_built("views.js"), "script"), _inline(_built("views.css"), "style")
    return "\n".join([
        "<!doctype html>",
        '<html lang="en" dir="ltr">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(script, style)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light">',
        f"<title>{_TITLES[view]} · Clinic calendar</title>",
        f"<style>{style}</style>",
        "</head>",
        f'<body data-view="{view}">',
        _built("sprite.svg").strip(),
        '<main id="view" class="view"></main>',
        f'<script type="module">{script}</script>',
        "</body>",
        "</html>",
        "",
    ])


@cache
def _built(name: str) -> str:
    path = DIST / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run bash scripts/build_views.sh")
    return path.read_text(encoding="utf-8")


def _inline(text: str, element: str) -> str:
    """Text that cannot end its element early: `</script` becomes `<\\/script` (`</style`: `<\\/style`), which
    means the same inside a JavaScript string or regular expression, or a CSS string."""
    return re.sub(f"</({element})", r"<\\/\1", text, flags=re.IGNORECASE)
