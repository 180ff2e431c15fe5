"""Where a module reads its imported names: the scope analysis behind live bindings.

An ES module's named imports are live: ``import { count } from "./a.js"`` sees every
later assignment ``a.js`` makes to ``count``. The linker (runtime/linker.py) gives a
module no copy of an imported binding; it rewrites every *read* of the imported name
into a read through the exporter's namespace object (``__ig$n[3].count``), whose
getter returns the exporter's variable as it is now (or throws, in its temporal dead
zone, as V8 does for an uninitialised import).

This module finds those reads in tree-sitter's syntax tree: identifiers with an
imported name, in expression position, not shadowed by a declaration of the same name
in a scope between them and the module's top level (parameters, ``var`` of an
enclosing function, ``let``/``const``/``class``/``function`` of an enclosing block,
``for`` heads, ``catch`` parameters, a named function or class expression's own name).
Declarations and assignment targets are left alone: they name the constant the linker
declares for each import, so redeclaring an import is V8's "already been declared"
and assigning to one is V8's "Assignment to constant variable.", as for a real module.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

#: nodes with a parameter list and a ``var`` scope of their own
FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "generator_function_declaration",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
#: declarations that bind the node's ``name`` (in the enclosing block)
DECLARATIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
    }
)
#: (parent type, field) where an identifier is a binding or an assignment target
_TARGETS = frozenset(
    {
        ("variable_declarator", "name"),
        ("function_declaration", "name"),
        ("generator_function_declaration", "name"),
        ("function_expression", "name"),
        ("generator_function", "name"),
        ("class_declaration", "name"),
        ("class", "name"),
        ("formal_parameters", None),
        ("arrow_function", "parameter"),
        ("catch_clause", "parameter"),
        ("array_pattern", None),
        ("assignment_pattern", "left"),
        ("object_assignment_pattern", "left"),
        ("rest_pattern", None),
        ("pair_pattern", "value"),
        ("assignment_expression", "left"),
        ("augmented_assignment_expression", "left"),
        ("update_expression", "argument"),
        ("for_in_statement", "left"),
    }
)
#: statements the linker blanks: names inside them are not code
_BLANKED = frozenset({"import_statement", "export_clause", "namespace_export"})


@dataclass(frozen=True, slots=True)
class Reference:
    """A read of an imported name: ``start``/``end`` in UTF-16 units of the module's
    text; ``kind``: ``read``, ``call`` (the callee of a call or tagged template: called
    with ``this`` undefined, as an import is), ``optional-call`` (``name?.()``) or
    ``shorthand`` (``{ name }`` in an object literal)."""

    start: int
    end: int
    name: str
    kind: str


def node_text(node: tree_sitter.Node) -> str:
    """A node's source text (the tree is parsed from UTF-16, as V8 holds sources)."""
    raw = node.text
    assert raw is not None  # a tree parsed from a buffer keeps it: every node has its text
    return raw.decode("utf-16-le", "surrogatepass")


def _field(node: tree_sitter.Node) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    for i, child in enumerate(parent.children):
        if child.id == node.id:
            return parent.field_name_for_child(i)
    return None


def bound_names(node: tree_sitter.Node | None, binding: bool = False) -> list[str]:
    """Identifiers a declaration (or, with ``binding``, a parameter list or pattern)
    binds, also inside destructuring patterns (none for a node a tree with syntax errors
    lacks: V8 reports those)."""
    names: list[str] = []
    if node is None:
        return names
    if node.type in DECLARATIONS:
        name = node.child_by_field_name("name")
        return [node_text(name)] if name else []

    def walk(n: tree_sitter.Node | None, binding: bool) -> None:
        if n is None:  # a field a tree with syntax errors lacks
            return
        if n.type in ("identifier", "shorthand_property_identifier_pattern") and binding:
            names.append(node_text(n))
            return
        if n.type == "variable_declarator":
            walk(n.child_by_field_name("name"), True)
            return
        if n.type == "pair_pattern":
            walk(n.child_by_field_name("value"), True)
            return
        if n.type in ("assignment_pattern", "object_assignment_pattern"):
            walk(n.child_by_field_name("left"), True)
            return
        for c in n.named_children:
            walk(c, binding or n.type.endswith("pattern"))

    walk(node, binding)
    return names


class _Scopes:
    """What each scope node declares, computed once per node."""

    def __init__(self) -> None:
        self._cache: dict[int, frozenset[str]] = {}

    def declares(self, scope: tree_sitter.Node, name: str) -> bool:
        got = self._cache.get(scope.id)
        if got is None:
            got = self._cache[scope.id] = frozenset(self._declared(scope))
        return name in got

    def _declared(self, n: tree_sitter.Node) -> list[str]:
        t = n.type
        out: list[str] = []
        if t in FUNCTIONS:
            params = n.child_by_field_name("parameters")
            if params is not None:
                out += bound_names(params, True)
            param = n.child_by_field_name("parameter")
            if param is not None:
                out += bound_names(param, True)
            if t in ("function_expression", "generator_function"):
                name = n.child_by_field_name("name")
                if name is not None:
                    out.append(node_text(name))
            body = n.child_by_field_name("body")
            if body is not None and body.type == "statement_block":
                out += _vars(body)
        elif t == "class_static_block":  # a `var` scope; its block holds the rest
            out += _vars(n)
        elif t in ("statement_block", "switch_body"):
            stmts = n.named_children
            if t == "switch_body":
                stmts = [s for case in stmts for s in case.children_by_field_name("body")]
            for s in stmts:
                if s.type == "lexical_declaration" or s.type in DECLARATIONS:
                    out += bound_names(s)
        elif t == "for_statement":
            init = n.child_by_field_name("initializer")
            if init is not None and init.type == "lexical_declaration":
                out += bound_names(init)
        elif t == "for_in_statement":
            kind = n.child_by_field_name("kind")
            if kind is not None and node_text(kind) in ("let", "const"):
                out += bound_names(n.child_by_field_name("left"), True)
        elif t == "catch_clause":
            param = n.child_by_field_name("parameter")
            if param is not None:
                out += bound_names(param, True)
        elif t in ("class", "class_declaration"):
            name = n.child_by_field_name("name")
            if name is not None:
                out.append(node_text(name))
        return out


def _vars(body: tree_sitter.Node) -> list[str]:
    """Names ``var`` declares in ``body``, not inside nested functions or static blocks."""
    out: list[str] = []
    stack = list(body.named_children)
    while stack:
        n = stack.pop()
        if n.type in FUNCTIONS or n.type == "class_static_block":
            continue
        if n.type == "variable_declaration":
            out += bound_names(n)
        elif n.type == "for_in_statement":
            kind = n.child_by_field_name("kind")
            if kind is not None and node_text(kind) == "var":
                out += bound_names(n.child_by_field_name("left"), True)
        stack.extend(n.named_children)
    return out


_QUERY: tree_sitter.Query | None = None


def references(tree: tree_sitter.Tree, names: frozenset[str]) -> list[Reference]:
    """Reads of ``names`` bound at ``tree``'s top level (a module's imports)."""
    global _QUERY
    if not names:
        return []
    if _QUERY is None:
        _QUERY = tree_sitter.Query(
            tree.language, "(identifier) @id (shorthand_property_identifier) @short"
        )
    scopes = _Scopes()
    out: list[Reference] = []
    wanted = {n.encode("utf-16-le", "surrogatepass"): n for n in names}  # no decoding
    found = tree_sitter.QueryCursor(_QUERY).captures(tree.root_node)
    for capture, nodes in found.items():
        for node in nodes:
            name = wanted.get(node.text or b"")
            if name is None:
                continue
            kind = "shorthand" if capture == "short" else _kind(node)
            if kind is None:
                continue
            if _shadowed_or_blanked(node, name, scopes):
                continue
            out.append(Reference(node.start_byte // 2, node.end_byte // 2, name, kind))
    out.sort(key=lambda r: r.start)
    return out


_PATTERNS = frozenset(
    {
        "array_pattern",
        "object_pattern",
        "assignment_pattern",
        "object_assignment_pattern",
        "rest_pattern",
        "pair_pattern",
    }
)
_WRITES: tree_sitter.Query | None = None


def writes(tree: tree_sitter.Tree, names: frozenset[str]) -> set[str]:
    """Which of ``names`` (top-level bindings of the module) an assignment, update or
    destructuring assignment in a function, method or class field may change after the
    module ran (not a shadowing declaration's); assignments of the top level itself are
    over once the module ran."""
    global _WRITES
    if not names:
        return set()
    if _WRITES is None:
        _WRITES = tree_sitter.Query(
            tree.language, "(identifier) @id (shorthand_property_identifier_pattern) @id"
        )
    scopes = _Scopes()
    out: set[str] = set()
    wanted = {n.encode("utf-16-le", "surrogatepass"): n for n in names}
    for node in tree_sitter.QueryCursor(_WRITES).captures(tree.root_node).get("id", []):
        name = wanted.get(node.text or b"")
        if name is None or name in out or not _assigned(node) or not _deferred(node):
            continue
        if not _shadowed_or_blanked(node, name, scopes):
            out.add(name)
    return out


def _deferred(node: tree_sitter.Node) -> bool:
    """``node`` runs later than the module's top level: in a function or a class field."""
    p = node.parent
    while p is not None:
        if p.type in FUNCTIONS or p.type == "field_definition":
            return True
        p = p.parent
    return False


def _assigned(node: tree_sitter.Node) -> bool:
    """``node`` is the target of an assignment (not of a declaration)."""
    while True:
        parent = node.parent
        if parent is None:
            return False
        field = _field(node)
        if parent.type in ("assignment_expression", "augmented_assignment_expression"):
            return field == "left"
        if parent.type == "update_expression":
            return True
        if parent.type == "for_in_statement":
            return field == "left" and parent.child_by_field_name("kind") is None
        if parent.type not in _PATTERNS or (
            parent.type in ("assignment_pattern", "object_assignment_pattern") and field != "left"
        ):
            return False
        if parent.type == "pair_pattern" and field != "value":
            return False
        node = parent


def _kind(node: tree_sitter.Node) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    field = _field(node)
    if (parent.type, field) in _TARGETS:
        return None
    if parent.type == "unary_expression" and node_text(parent.children[0]) == "delete":
        return None  # `delete name` stays V8's strict-mode SyntaxError
    if parent.type == "call_expression" and field == "function":
        return "optional-call" if parent.child_by_field_name("optional_chain") else "call"
    return "read"


def _shadowed_or_blanked(node: tree_sitter.Node, name: str, scopes: _Scopes) -> bool:
    p = node.parent
    while p is not None and p.type != "program":
        if p.type in _BLANKED or scopes.declares(p, name):
            return True
        p = p.parent
    return False
