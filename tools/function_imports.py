"""Counts imports written inside functions in production code (tests and migrations aside).

An import inside a function hides a dependency from readers and from import-linter's layers
unless it is there for a stated reason (Django's app loading, an optional dependency, a heavy
module only one path needs). Each one must say why in a comment on its line or the line above.
`make lint` prints the count and fails when it grows past CEILING or when an import inside a
function gives no reason."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "permanence"
CEILING = 19  # issue 8: fewer than 20


def function_imports(path: Path) -> list[tuple[int, bool]]:
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    here = lines[inner.lineno - 1]
                    above = lines[inner.lineno - 2] if inner.lineno > 1 else ""
                    reasoned = "#" in here or above.strip().startswith("#")
                    found.append((inner.lineno, reasoned))
    return found


def main() -> int:
    total = 0
    unexplained: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        if "tests" in rel.parts or "migrations" in rel.parts:
            continue
        for lineno, reasoned in function_imports(path):
            total += 1
            if not reasoned:
                unexplained.append(f"{rel}:{lineno}")
    print(f"imports inside functions (production code): {total} "
          f"({len(unexplained)} without a reason comment); ceiling {CEILING}")
    if "-v" in sys.argv or unexplained:
        print("\n".join(unexplained))
    if total > CEILING:
        print(f"error: {total} imports inside functions, more than the ceiling {CEILING}: "
              "import at module level (import-linter checks the layers)", file=sys.stderr)
        return 1
    if unexplained:
        print("error: an import inside a function needs a comment saying why (on its line or "
              "the line above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
