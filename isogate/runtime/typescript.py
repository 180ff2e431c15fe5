"""TypeScript to JavaScript by erasing types, with tree-sitter's TypeScript grammar.

Every piece of type syntax (annotations, type parameters and arguments, interfaces,
type aliases, ``declare``, ``as``/``satisfies``, ``!``, access modifiers, ``import
type``) is replaced by spaces; line breaks stay. The JavaScript that results has every
token at the line and column it had in the TypeScript, so V8's error positions and
stack traces are already the tenant's own: no source map is needed. TypeScript that
is not erasable (``enum``, ``namespace``, constructor parameter properties) generates
code; it is refused with its position, as Node's ``--strip-types`` refuses it.
"""

from __future__ import annotations

import array
import re
import sys

import tree_sitter
import tree_sitter_typescript

from .types import JSErrorInfo

_PARSER: tree_sitter.Parser | None = None
_QUERY: tree_sitter.Query | None = None

#: nodes erased whole
_ERASE = (
    "interface_declaration",
    "type_alias_declaration",
    "ambient_declaration",
    "type_annotation",
    "type_parameters",
    "type_arguments",
    "implements_clause",
    "accessibility_modifier",
    "override_modifier",
    "abstract_method_signature",
    "function_signature",
    "index_signature",
)
#: nodes that generate code: no erasure turns them into JavaScript
_REFUSE = {
    "enum_declaration": "`enum` generates code: use a union of literals or an object",
    "internal_module": "`namespace` generates code: use a module or an object",
    "module": "`module` blocks generate code: use a module or an object",
}
_TOKENS_IN = (
    "public_field_definition",
    "optional_parameter",
    "required_parameter",
    "abstract_class_declaration",
    "variable_declarator",
    "method_definition",
)


class TypeScriptError(Exception):
    """The TypeScript cannot be erased to JavaScript; ``info`` names the position."""

    def __init__(self, info: JSErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


def _query() -> tuple[tree_sitter.Parser, tree_sitter.Query]:
    global _PARSER, _QUERY
    if _PARSER is None or _QUERY is None:
        lang = tree_sitter.Language(tree_sitter_typescript.language_typescript())
        _PARSER = tree_sitter.Parser(lang)
        patterns = [f"({t}) @erase" for t in _ERASE]
        patterns += [f"({t}) @refuse" for t in _REFUSE]
        patterns += [f"({t}) @tokens" for t in _TOKENS_IN]
        patterns += [
            "(as_expression) @cast",
            "(satisfies_expression) @cast",
            "(non_null_expression) @nonnull",
            '(import_statement "type") @statement',
            '(export_statement "type") @statement',
            "(type_assertion (type_arguments) @erase)",
            "(ERROR) @error",
            "(MISSING) @error",
        ]
        _QUERY = tree_sitter.Query(lang, " ".join(patterns))
    return _PARSER, _QUERY


def _blank(text: str) -> str:
    return re.sub(r"[^\n\r\u2028\u2029]", " ", text)


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _error(text: str, index: int, message: str) -> TypeScriptError:
    line, column = _position(text, index)
    return TypeScriptError(
        JSErrorInfo(name="SyntaxError", message=message, line=line, column=column)
    )


def strip_types(typescript: str) -> str:
    """``typescript`` with its types erased. Raises :class:`TypeScriptError`.

    Works on UTF-16 units (a character beyond U+FFFF is two of them, as V8 and the
    parser count), so positions in errors are V8's; the result is an ordinary string.
    """
    units = array.array("H", typescript.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    source = "".join(map(chr, units))  # one character per UTF-16 unit
    parser, query = _query()
    tree = parser.parse(source.encode("utf-16-le", "surrogatepass"), encoding="utf16")
    found = tree_sitter.QueryCursor(query).captures(tree.root_node)
    if found.get("error"):
        first = min(found["error"], key=lambda n: n.start_byte)
        raise _error(source, first.start_byte // 2, "the TypeScript could not be parsed here")
    for node in found.get("refuse", []):
        raise _error(source, node.start_byte // 2, _REFUSE[node.type])
    spans: list[tuple[int, int]] = []
    for node in found.get("erase", []) + found.get("statement", []):
        spans.append((node.start_byte // 2, node.end_byte // 2))
    for node in found.get("cast", []):
        kw = next(c for c in node.children if c.type in ("as", "satisfies"))
        spans.append((kw.start_byte // 2, node.end_byte // 2))
    for node in found.get("nonnull", []):
        spans.append((node.end_byte // 2 - 1, node.end_byte // 2))
    for node in found.get("tokens", []):
        for c in node.children:
            if node.type == "required_parameter" and c.type in (
                "accessibility_modifier",
                "readonly",
                "override_modifier",
            ):
                raise _error(
                    source,
                    c.start_byte // 2,
                    "constructor parameter properties generate code: assign in the body",
                )
            if c.type in ("?", "!", "readonly", "abstract", "declare") and not c.is_named:
                spans.append((c.start_byte // 2, c.end_byte // 2))
    out = list(source)
    for s, e in spans:
        out[s:e] = _blank(source[s:e])
    # surrogate pairs back to characters (a blanked pair is two spaces: same columns)
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
