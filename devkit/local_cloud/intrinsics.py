"""Resolve CloudFormation intrinsic functions (Ref, GetAtt, Sub, Join, Select, Split) against known values.

Used twice by the local cloud: before creating the stack, to replace references to resources the local
CloudFormation skips by the names they will get; after, to resolve those resources' own properties.
Unknown references are left as they are (`partial`) or refused, so nothing is silently guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

AttLookup = Callable[[str, str], str | None]
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedReference(KeyError):
    """A reference the resolver has no value for (and may not leave in place)."""


def resolve(value: Any, refs: Mapping[str, Any], atts: AttLookup, *, partial: bool = False) -> Any:
    """Return `value` with every resolvable intrinsic replaced by its value."""
    if isinstance(value, list):
        return [resolve(v, refs, atts, partial=partial) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        handler = _HANDLERS.get(key)
        if handler is not None:
            return handler(arg, refs, atts, partial)
    return {k: resolve(v, refs, atts, partial=partial) for k, v in value.items()}


def _ref(arg: Any, refs: Mapping[str, Any], atts: AttLookup, partial: bool) -> Any:
    if isinstance(arg, str) and arg in refs:
        return refs[arg]
    if partial:
        return {"Ref": arg}
    raise UnresolvedReference(f"Ref {arg!r}")


def _get_att(arg: Any, refs: Mapping[str, Any], atts: AttLookup, partial: bool) -> Any:
    name, attr = arg.split(".", 1) if isinstance(arg, str) else arg
    found = atts(str(name), str(attr))
    if found is not None:
        return found
    if partial:
        return {"Fn::GetAtt": [name, attr]}
    raise UnresolvedReference(f"GetAtt {name}.{attr}")


def _sub(arg: Any, refs: Mapping[str, Any], atts: AttLookup, partial: bool) -> Any:
    text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    local_values = {k: resolve(v, refs, atts, partial=partial) for k, v in local.items()}
    unresolved = False

    def one(match: re.Match[str]) -> str:
        nonlocal unresolved
        var = match.group(1)
        if var in local_values and isinstance(local_values[var], str):
            return str(local_values[var])
        if "." in var:
            name, attr = var.split(".", 1)
            found = atts(name, attr)
        else:
            ref = refs.get(var)
            found = ref if isinstance(ref, str) else None
        if found is None:
            if not partial:
                raise UnresolvedReference(f"Sub variable {var!r}")
            unresolved = True
            return match.group(0)
        return found

    out = _SUB_VAR.sub(one, text)
    if unresolved or any(not isinstance(v, str) for v in local_values.values()):
        return {"Fn::Sub": [out, local_values] if local_values else out}
    return out.replace("${!", "${")  # `${!Literal}` is the escape for a literal `${Literal}`


def _join(arg: Any, refs: Mapping[str, Any], atts: AttLookup, partial: bool) -> Any:
    sep, items = arg
    parts = resolve(items, refs, atts, partial=partial)
    if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
        return str(sep).join(parts)
    if isinstance(parts, str):  # a Ref to a list parameter, already joined as CloudFormation passes it
        return str(sep).join(parts.split(","))
    return {"Fn::Join": [sep, parts]}


_HANDLERS: dict[str, Callable[[Any, Mapping[str, Any], AttLookup, bool], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
}


def condition_values(conditions: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, bool]:
    """Each of a template's Conditions (Fn::Equals, Not, And, Or, Condition) evaluated on its parameters;
    a condition the local cloud cannot evaluate is refused by name rather than guessed."""
    out: dict[str, bool] = {}

    def value(expr: Any) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Ref":
                return parameters[arg]
            if key == "Condition":
                return holds(arg)
            if key == "Fn::Equals":
                return value(arg[0]) == value(arg[1])
            if key == "Fn::Not":
                return not value(arg[0])
            if key == "Fn::And":
                return all(value(a) for a in arg)
            if key == "Fn::Or":
                return any(value(a) for a in arg)
            raise UnresolvedReference(f"condition function {key} is not evaluated locally")
        return expr

    def holds(name: str) -> bool:
        if name not in out:
            out[name] = bool(value(conditions[name]))
        return out[name]

    for name in conditions:
        holds(name)
    return out
