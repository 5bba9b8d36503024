"""msgspec's validation errors, said the way the protocol has always said them.

msgspec reports ``Expected `int` >= 1 - at `$.stages[0].threads```; the protocol's peers (and its tests) read
``deploy.stages[0]: threads must be positive, not 0`` with a machine-readable code (``missing_field``,
``wrong_type``, ``bad_value``, ``too_many``). ``explain`` turns one into the other. It runs only on the error
path, against the plain JSON data, so it can name what msgspec leaves out: the key of a bad dict entry and
the value that broke a bound.

``Shaped(T)`` marks a field that stays plain JSON data in the message (the agent's runtime reads those dicts
as they are) but must have the shape ``T``: ``check_shapes`` converts it to ``T`` to check it, and
docs/protocol.md describes ``T``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import inspect as mi

# The largest finite float: ``Meta(ge=-MAX_FLOAT, le=MAX_FLOAT)`` makes a float field refuse inf and nan.
MAX_FLOAT = 1.7976931348623157e308

_ERROR = re.compile(r"^(?P<what>.*?)(?: - at `(?P<at>[^`]*)`(?: in `(?P<inside>[^`]*)`)?)?$", re.S)
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\.\.\.)\]")
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "an integer or a number",
    "bool": "a boolean",
    "null": "null",
    "array": "an array",
    "object": "an object",
}


class Invalid(ValueError):
    """A refusal with its code (``ProtocolError`` in ``protocol``, where the code reaches the peer)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Shaped:
    """``Annotated[list[dict[str, Any]], Shaped(list[Stage])]``: plain data of a declared shape."""

    type: Any


def explain(error: msgspec.ValidationError, root: Any, data: Any, where: str) -> Invalid:
    """``error`` (from converting ``data`` to the type ``root``) as an ``Invalid`` naming the field under
    ``where`` (``deploy`` for a message; ``deploy.stages`` for a shaped field)."""
    match = _ERROR.match(str(error))
    assert match is not None  # the pattern matches any text
    what, at, inside = match["what"], match["at"], match["inside"]
    if at == "key" and inside:  # a dict key failed (too long): name it
        steps, value, info = _walk(root, data, inside)
        key = next((k for k in value if not _fits(k, info.key_type)), "?") if isinstance(value, dict) else "?"
        return Invalid("bad_value", f"{where}{_render(steps)}: key {key!r} is not {_describe(info.key_type)}")
    steps, value, info = _walk(root, data, at or "$")
    missing = re.match(r"Object missing required field `(\w+)`", what)
    if missing:
        return Invalid("missing_field", f"{where}{_render(steps)}: field {missing[1]!r} is required")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", what)
    if unknown:
        return Invalid("bad_value", f"{where}{_render(steps)}: unknown field {unknown[1]!r}")
    head, last = _render(steps[:-1]), steps[-1] if steps else ""
    subject = f"{where}{head}: field {last[1:]!r}" if last.startswith(".") else f"{where}{head}{last}"
    bounded = f"{where}{head}: {last[1:]}" if last.startswith(".") else subject
    expected = re.match(r"Expected `([^`]+)`, got `(\w+)`", what)
    if expected:
        # "or null" says nothing to a sender whose value was not null: an optional field's type is enough.
        names = [k for k in expected[1].split(" | ") if k != "null" or expected[2] == "null"]
        kinds = " or ".join(_TYPE_NAMES.get(k, k) for k in names or ["null"])
        return Invalid("wrong_type", f"{subject} must be {kinds}, not {expected[2]}")
    length = re.match(r"Expected `(array|object)` of length (<=|>=) (\d+)", what)
    if length and length[2] == "<=":
        return Invalid("too_many", f"{subject} has more than {length[3]} entries")
    if length:
        return Invalid(
            "bad_value",
            f"{subject} must not be empty" if length[3] == "1" else f"{subject} needs {length[3]}+ entries",
        )
    if what.startswith(("Expected", "Number out of range", "Invalid")):
        return Invalid("bad_value", f"{bounded} must be {_describe(info)}, not {value!r}")
    # A rule across fields (a ``__post_init__``), said about the object that broke it.
    return Invalid("bad_value", f"{where}{_render(steps)}: {what}")


def check_shapes(message: Any, fields: tuple[tuple[str, Any], ...], where: str) -> None:
    """Check each ``(name, shape)`` field of ``message`` that is not null; raise ``Invalid`` if one is off."""
    for name, shape in fields:
        value = getattr(message, name)
        if value is not None:
            try:
                msgspec.convert(value, shape)
            except msgspec.ValidationError as exc:
                raise explain(exc, shape, value, f"{where}.{name}") from None


def shaped_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """The ``(field name, shape type)`` of each field of ``cls`` declared with ``Shaped``."""
    import typing

    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple(
        (name, meta.type)
        for name, hint in hints.items()
        for meta in getattr(hint, "__metadata__", ())
        if isinstance(meta, Shaped)
    )


# --- walking the type and the data along msgspec's path ------------------------------------------------


def _walk(root: Any, data: Any, path: str) -> tuple[list[str], Any, Any]:
    """Follow ``path`` (``$.a[0].b[...]``) through the data and the type: the rendered steps (a dict entry's
    ``[...]`` becomes the key of the first entry that does not fit), the value there and its type info."""
    info, value, steps = mi.type_info(root), data, []
    for name, index in _SEGMENT.findall(path.removeprefix("$")):
        info = _branch(info, "field" if name else "dict" if index == "..." else "list")
        if name:
            steps.append(f".{name}")
            value = value.get(name) if isinstance(value, dict) else None
            info = _field_type(info, name)
        elif index == "...":
            key = next((k for k, v in _items(value) if not _fits(v, info.value_type)), "?")
            steps.append(f"[{key!r}]")
            value, info = value.get(key) if isinstance(value, dict) else None, info.value_type
        else:
            steps.append(f"[{index}]")
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
            info = getattr(info, "item_type", mi.AnyType())
    return steps, value, _branch(info, "scalar")


def _branch(info: Any, want: str) -> Any:
    """The member of a union (or annotated type) that a step of kind ``want`` goes into."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if not isinstance(info, mi.UnionType):
        return info
    kinds = {"field": mi.StructType, "dict": mi.DictType, "list": mi.ListType}
    members = [t for t in info.types if not isinstance(t, mi.NoneType)]
    wanted = [t for t in members if isinstance(t, kinds.get(want, (mi.IntType, mi.FloatType)))]
    return (wanted or members or [info])[0]


def _field_type(info: Any, name: str) -> Any:
    for field in getattr(info, "fields", ()):
        if field.encode_name == name:
            return field.type
    return mi.AnyType()


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    return iter(value.items()) if isinstance(value, dict) else iter(())


def _fits(value: Any, info: Any) -> bool:
    try:
        msgspec.convert(value, _python_type(info))
    except (msgspec.ValidationError, TypeError):
        return False
    return True


def _python_type(info: Any) -> Any:
    """The type that ``info`` (msgspec.inspect) describes, bounds included, for ``msgspec.convert``."""
    from typing import Annotated, Union

    if isinstance(info, mi.Metadata):
        return _python_type(info.type)
    if isinstance(info, mi.UnionType):
        return Union[tuple(_python_type(t) for t in info.types)]  # noqa: UP007 (built at run time)
    if isinstance(info, (mi.IntType, mi.FloatType)):
        bounds = {k: getattr(info, k) for k in ("gt", "ge", "lt", "le") if getattr(info, k) is not None}
        return Annotated[int if isinstance(info, mi.IntType) else float, msgspec.Meta(**bounds)]
    if isinstance(info, mi.StrType):
        return Annotated[str, msgspec.Meta(min_length=info.min_length, max_length=info.max_length)]
    if isinstance(info, mi.DictType):
        return dict[_python_type(info.key_type), _python_type(info.value_type)]  # type: ignore[misc]
    if isinstance(info, mi.ListType):
        return list[_python_type(info.item_type)]  # type: ignore[misc]
    simple = {mi.NoneType: type(None), mi.BoolType: bool, mi.StructType: getattr(info, "cls", None)}
    return simple.get(type(info)) or Any


def _render(steps: list[str]) -> str:
    return "".join(steps)


def _describe(info: Any) -> str:
    """What a bounded number or string must be: ``positive``, ``a finite number >= 0``, ``in [0, 1)``."""
    info = _branch(info, "scalar")
    if isinstance(info, mi.StrType):
        return f"a string of at most {info.max_length} characters"
    if isinstance(info, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in info.values)
    if not isinstance(info, (mi.IntType, mi.FloatType)):
        return "valid"
    finite = isinstance(info, mi.FloatType) and info.le == MAX_FLOAT
    low = (">", info.gt) if info.gt is not None else (">=", info.ge) if info.ge is not None else None
    high = ("<", info.lt) if info.lt is not None else ("<=", info.le) if info.le is not None else None
    if finite:
        low = None if low and low[1] == -MAX_FLOAT else low
        high = None
    if not finite and high is None and low in ((">", 0), (">=", 1)):
        return "positive"
    noun = "a finite number" if finite else ""
    if low and high:
        bounds = (
            f"in {'[' if low[0] == '>=' else '('}{low[1]:g}, {high[1]:g}{']' if high[0] == '<=' else ')'}"
        )
    else:
        bounds = " ".join(f"{op} {bound:g}" for op, bound in filter(None, (low, high)))
    text = " ".join(part for part in (noun, bounds) if part)
    return text or ("a finite number" if isinstance(info, mi.FloatType) else "an integer")
