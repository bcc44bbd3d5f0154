"""The README and ``docs/`` as a newcomer reads them: short, linked, and their code current."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- (examples/[\w.]+) -->\n)?```python\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)#\s]+\.md)?(?:#([\w-]+))?\)")


def python_blocks():
    for page in PAGES:
        for match in BLOCK.finditer(page.read_text()):
            where = f"{page.name}:{match.start()}"
            yield pytest.param(page, match.group(1), match.group(2), id=where)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_readme_is_short_enough_to_read_to_the_end():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


@pytest.mark.parametrize("page,example,code", list(python_blocks()))
def test_each_python_block_parses_and_its_imports_exist(page, example, code):
    tree = ast.parse(code)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    exec(compile(ast.Module(body=imports, type_ignores=[]), str(page), "exec"), {})
    if example:  # the block is that example, which the suite runs: it must not drift from it
        lines = iter(line.strip() for line in (ROOT / example).read_text().splitlines())
        missing = [line for line in code.splitlines() if line.strip() and line.strip() not in lines]
        assert not missing, f"{page.name}: not in {example} (in order): {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_to_a_page_and_heading_exists(page):
    for target, anchor in LINK.findall(page.read_text()):
        linked = (page.parent / target) if target else page
        assert linked.exists(), f"{page.name} links to a missing {target}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            slugs = {slug(heading) for heading in headings}
            assert anchor in slugs, f"{page.name}: no #{anchor} in {linked.name}"


def test_the_layout_table_names_every_subpackage_and_only_those():
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"^\| `(\w+)/` \|", readme, re.M))
    package = ROOT / "reflexion_graph"
    folders = {p.parent.name for p in package.glob("*/__init__.py")}
    assert named == folders
