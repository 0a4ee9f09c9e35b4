"""The repository's documents hold what the code cites: every `docs/…md#anchor` names a heading that
exists, every relative link in the Markdown resolves, and nothing points outside the repository for
what the code relies on about a provider."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CITING = ("harvest", "harvest_tests", "benchmarks", "docs")
CITATION = re.compile(r"(docs/[\w.-]+\.md)#([a-z0-9-]+)")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
OUTSIDE = re.compile(r"NOTES\.md|\.\./shared|shared/providers/(?:NOTES|docs)")


def _sources() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in CITING:
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md"} and p.is_file())
    return [p for p in files if p != Path(__file__)]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s", "-", text)


def anchors(document: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*$", document.read_text(), flags=re.MULTILINE)
    return {slug(heading) for heading in headings}


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("OneAtlas catalog search", "oneatlas-catalog-search"),
        ("Arlula orders, datasets and resources", "arlula-orders-datasets-and-resources"),
        ("Credentials, hosts and response limits", "credentials-hosts-and-response-limits"),
        ("The `harvest` CLI", "the-harvest-cli"),
    ],
)
def test_slug_matches_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_every_cited_anchor_exists() -> None:
    cited = [
        (path.relative_to(ROOT), document, anchor)
        for path in _sources()
        for document, anchor in CITATION.findall(path.read_text())
    ]
    assert cited, "the code cites docs/providers.md; a pattern that finds nothing cannot check anything"
    missing = [
        f"{source}: {document}#{anchor}"
        for source, document, anchor in cited
        if not (ROOT / document).is_file() or anchor not in anchors(ROOT / document)
    ]
    assert not missing, "citations of headings that do not exist:\n" + "\n".join(missing)


def test_relative_markdown_links_resolve() -> None:
    broken = []
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in MARKDOWN_LINK.findall(document.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path, _, anchor = target.partition("#")
            resolved = (document.parent / path).resolve()
            if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, "links that lead nowhere:\n" + "\n".join(broken)


def test_nothing_points_outside_the_repository_for_provider_facts() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert not outside, "provider facts belong in docs/providers.md:\n" + "\n".join(outside)
