"""The MCP Apps views' documents: built from the sources as committed, self-contained, and allowing only their own
inline script and style (no network)."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mcp_server.views.documents import DIST, VIEW_CSP, csp_hash, preview_document, week_document

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = {"week": week_document, "batch-preview": preview_document}


class Page(HTMLParser):
    """What a document holds: each element with its attributes, the CSP, and the text of its script and style."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, str] = {}
        self._inside: str | None = None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._inside = tag

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside is not None:
            self.texts[self._inside] = self.texts.get(self._inside, "") + data

    def attribute(self, tag: str, name: str) -> list[str | None]:
        return [attrs.get(name) for element, attrs in self.elements if element == tag]

    def policy(self) -> dict[str, list[str]]:
        """The Content-Security-Policy of the `<meta http-equiv>`: each directive with its sources."""
        [content] = [attrs["content"] for tag, attrs in self.elements
                     if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"]
        assert content is not None
        directives = [part.split() for part in content.split(";")]
        return {words[0]: words[1:] for words in directives}


@pytest.mark.parametrize("view", DOCUMENTS)
def test_each_document_says_its_view_on_the_body(view: str) -> None:
    page = Page(DOCUMENTS[view]())

    assert page.attribute("body", "data-view") == [view]
    assert page.attribute("main", "id") == ["view"]


def test_the_committed_bundle_is_a_fresh_build_of_the_sources(tmp_path: Path) -> None:
    subprocess.run(["bash", "scripts/build_views.sh", str(tmp_path)], cwd=ROOT, check=True, timeout=120)

    for built in sorted(tmp_path.iterdir()):
        committed = DIST / built.name
        assert committed.is_file(), f"{committed} is missing: run bash scripts/build_views.sh"
        assert committed.read_bytes() == built.read_bytes(), \
            f"{committed} is stale: run bash scripts/build_views.sh and commit mcp_server/views/dist"
    assert sorted(p.name for p in DIST.iterdir()) == sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("view", DOCUMENTS)
def test_the_policy_allows_exactly_the_inline_script_and_style_and_no_network(view: str) -> None:
    page = Page(DOCUMENTS[view]())
    policy = page.policy()

    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == [csp_hash(page.texts["script"])]
    assert policy["style-src-elem"] == [csp_hash(page.texts["style"])]
    assert policy["connect-src"] == ["'none'"]
    assert policy["img-src"] == ["data:"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]


@pytest.mark.parametrize("view", DOCUMENTS)
def test_the_document_inlines_its_one_module_script_and_loads_nothing(view: str) -> None:
    page = Page(DOCUMENTS[view]())

    assert page.attribute("script", "type") == ["module"]
    assert page.attribute("script", "src") == [None]
    assert not [tag for tag, _ in page.elements if tag in ("link", "img", "iframe", "object", "embed", "base")]
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert name != "src", f"<{tag} src={value}>"
            if name == "href":
                assert (value or "").startswith("#"), f"<{tag} href={value}>: only the sprite's icons are referenced"
    style = page.texts["style"]
    assert "http:" not in style and "https:" not in style and "@import" not in style
    assert not re.search(r"(?<![\w$.])import\b", page.texts["script"]), "the bundle imports a module from elsewhere"


@pytest.mark.parametrize("view", DOCUMENTS)
def test_the_document_carries_the_icons_the_components_draw(view: str) -> None:
    page = Page(DOCUMENTS[view]())

    symbols = set(page.attribute("symbol", "id"))
    assert {"i-check", "i-shield", "i-sun"} <= symbols


def test_the_documents_are_built_once() -> None:
    assert week_document() is week_document()
    assert preview_document() is preview_document()


def test_the_resource_asks_the_host_for_no_domain() -> None:
    assert VIEW_CSP.model_dump(by_alias=True, exclude_none=True) == {
        "connectDomains": [], "resourceDomains": [], "frameDomains": [], "baseUriDomains": []}
