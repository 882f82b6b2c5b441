"""Copy each trader_host/analytics/queries/<name>.sql into template.yaml's NamedQuery naming it.

    python -m infra.athena.named_queries        # rewrite template.yaml; prints the queries it changed

The NamedQuery's `Description` names its file; its `QueryString: |` block is replaced by the file's text,
indented under it. tests/infra/test_template.py fails while the two differ.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_FILE = re.compile(r'^\s+Description: "(trader_host/analytics/queries/\w+\.sql)"$')


def synced(template: str, repo: Path = REPO) -> tuple[str, list[str]]:
    """`template` with every named query's block equal to its file, and the files whose block changed."""
    lines = template.split("\n")
    out: list[str] = []
    changed: list[str] = []
    source: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        match = _FILE.match(line)
        if match:
            source = match.group(1)
        if source is None or line.strip() != "QueryString: |":
            continue
        indent = len(line) - len(line.lstrip()) + 2
        block_end = i
        while block_end < len(lines) and _inside(lines, block_end, indent):
            block_end += 1
        sql = (repo / source).read_text().rstrip("\n").split("\n")
        block = [" " * indent + s if s else "" for s in sql]
        if block != lines[i:block_end]:
            changed.append(source)
        out.extend(block)
        i, source = block_end, None
    return "\n".join(out), changed


def _inside(lines: list[str], k: int, indent: int) -> bool:
    """Line k belongs to a block scalar indented `indent`: indented so, or blank with more of it below."""
    if lines[k].strip():
        return len(lines[k]) - len(lines[k].lstrip()) >= indent
    return k + 1 < len(lines) and bool(lines[k + 1].strip()) and _inside(lines, k + 1, indent)


def main() -> None:
    path = REPO / "template.yaml"
    text, changed = synced(path.read_text())
    if changed:
        path.write_text(text)
    done = ", ".join(changed) if changed else "every named query already equals its file"
    print(f"template.yaml: {done}")


if __name__ == "__main__":
    main()
