"""An app writes only its own tables — the privacy app included, whose retention schedules and
erasure requests change rows of many apps: it decides and reads, and every write on another
app's table goes through that app's `forget` module.

The check is an AST scan of the privacy app's modules (permanence/privacy/*.py), an honest
heuristic rather than a proof: every call of a write method (`.update(`, `.delete(`,
`.bulk_update(`, `.save(`, `.create(`…) must be made on something visibly the privacy app's
own — a receiver built from a model imported from privacy's own models modules, directly or
through a name bound in the same function (or `self.<attribute>` in the same class) — or on a
plain library object (a `hashlib` digest, a dict literal). Anything else fails: a receiver
built from another app's model, from `django.apps` (`apps.get_model`), from Django's file
storage, or that the scan cannot trace (a function's parameter, a purger's queryset), since
such a receiver may be another app's rows. A write the scan cannot see through must then move
to the owning app's `forget.py` (or, for privacy's own rows, name its model)."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from permanence.desk import forget as desk_forget
from permanence.privacy import erasure, registry

PRIVACY = Path(__file__).resolve().parent.parent
PACKAGE = "permanence.privacy"
WRITES = {"update", "delete", "bulk_update", "bulk_create", "save", "create", "get_or_create",
          "update_or_create"}
OWN_MODELS = ("permanence.privacy.models", "permanence.privacy.models_requests",
              "permanence.privacy.models_retention")
MAX_HOPS = 10


def _imports(tree: ast.Module) -> dict[str, str]:
    """Name bound by an import -> the dotted path it names."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = PACKAGE.split(".")
                anchor = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


def _targets(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr]]:
    """(bound name, its value): `a, b = x, y` pairs them; `a, b = call()` binds both to it."""
    if isinstance(target, ast.Tuple | ast.List):
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
            return [p for t, v in zip(target.elts, value.elts, strict=True)
                    for p in _targets(t, v)]
        return [p for t in target.elts for p in _targets(t, value)]
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and target.value.id == "self"):
        return [(f"self.{target.attr}", value)]
    return []


SCOPES = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of `scope` outside its nested functions and classes."""
    nodes: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        nodes.append(node)
        if not isinstance(node, SCOPES):
            todo += ast.iter_child_nodes(node)
    return nodes


def _bindings(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """The names bound in `scope` itself (for a class: the `self.<attribute>` its methods
    assign)."""
    if isinstance(scope, ast.ClassDef):
        return {k: v for method in scope.body if isinstance(method, ast.FunctionDef)
                for k, v in _bindings(method).items() if k.startswith("self.")}
    bound: dict[str, list[ast.expr]] = {}
    for node in _own_nodes(scope):
        pairs: list[tuple[str, ast.expr]] = []
        if isinstance(node, ast.Assign):
            pairs = [p for t in node.targets for p in _targets(t, node.value)]
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            pairs = _targets(node.target, node.value)
        elif isinstance(node, ast.For | ast.comprehension):
            pairs = _targets(node.target, node.iter)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            pairs = _targets(node.optional_vars, node.context_expr)
        for name, value in pairs:
            bound.setdefault(name, []).append(value)
    return bound


def _verdict(expr: ast.expr, bound: dict[str, list[ast.expr]], imports: dict[str, str],
             hops: int = 0) -> str | None:
    """None when `expr` is visibly privacy's own or a library object; else why not."""
    if hops > MAX_HOPS:
        return "cannot be traced"
    while isinstance(expr, ast.Attribute | ast.Call | ast.Subscript):
        if (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name)
                and expr.value.id == "self"):
            key = f"self.{expr.attr}"
            if key not in bound:
                return f"{key} is never assigned here"
            return next((v for v in (_verdict(value, bound, imports, hops + 1)
                                     for value in bound[key]) if v), None)
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    if not isinstance(expr, ast.Name):
        return None  # a literal, a comprehension: a Python value, not a table
    if expr.id in bound:
        return next((v for v in (_verdict(value, bound, imports, hops + 1)
                                 for value in bound[expr.id]) if v), None)
    path = imports.get(expr.id)
    if path is None:
        return f"{expr.id!r} cannot be traced (a parameter?)"
    if path.startswith(tuple(f"{m}." for m in OWN_MODELS)):
        return None
    if path.split(".")[0] in {"permanence", "django"}:
        return f"built from {path}"
    return None  # the standard library or a third-party library (hashlib…)


def foreign_writes(source: str) -> list[str]:
    """`line: call — why` for every write call whose receiver is not visibly privacy's own."""
    tree = ast.parse(source)
    imports = _imports(tree)
    found: list[str] = []

    def visit(node: ast.AST, bound: dict[str, list[ast.expr]]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, SCOPES):
                inner = {**bound}
                for name, values in _bindings(child).items():
                    inner[name] = inner.get(name, []) + values
                visit(child, inner)
                continue
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr in WRITES):
                why = _verdict(child.func.value, bound, imports)
                if why:
                    found.append(f"{child.lineno}: {ast.unparse(child.func)}() — {why}")
            visit(child, bound)

    visit(tree, _bindings(tree))
    return found


def test_the_privacy_app_writes_only_its_own_tables() -> None:
    modules = sorted(PRIVACY.glob("*.py"))
    assert {"retention.py", "erasure.py"} <= {m.name for m in modules}
    offenders = {m.name: w for m in modules if (w := foreign_writes(m.read_text()))}
    assert offenders == {}, (
        "privacy writes rows that are not visibly its own; call the owning app's forget.py")


def test_the_scan_catches_writes_on_another_apps_rows() -> None:
    # The shapes the retention job and the erasure had before their writes moved out.
    before = '''
from django.apps import apps
from permanence.desk.models import Call
from .models import RetentionRun

def purge(purger, cutoff, pks):
    rows = purger.select(cutoff).filter(pk__in=pks)
    return rows.update(**purger.values)

def erase(label, changed, fields):
    model = apps.get_model(label)
    model._default_manager.bulk_update(changed, fields)

def direct():
    Call.objects.filter(pk=1).update(message="")

def own():
    run = RetentionRun.objects.create()
    run.save(update_fields=["counts"])
'''
    found = foreign_writes(before)
    assert [line.split(":")[0] for line in found] == ["8", "12", "15"], found


def test_every_app_with_erasable_rows_has_its_forgetter() -> None:
    """The erasure reaches every registered model it may change through its app's forget."""
    apps_needed = {e.model.split(".")[0] for e in registry.REGISTRY
                   if erasure.erasable(e) and e.subject != registry.STAFF}
    assert apps_needed - set(erasure.FORGETTERS) == set()


def test_an_apps_erase_is_confined_to_its_own_models(db: None) -> None:
    with pytest.raises(LookupError):
        desk_forget.erase("Contact", [1], ("name",), request_id=1, today=date(2027, 1, 1),
                          dry_run=True)
