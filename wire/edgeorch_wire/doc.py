"""docs/protocol.md's message tables, generated from the declarations in ``protocol`` and ``shapes``.

    .venv/bin/python -m edgeorch_wire.doc --write docs/protocol.md    # rewrite the tables in place
    .venv/bin/python -m edgeorch_wire.doc --check docs/protocol.md    # exit 1 if they are out of date

Each table sits between ``<!-- BEGIN wire:NAME -->`` and ``<!-- END wire:NAME -->`` in the document; the
text around them is the document's own. wire/tests/test_doc.py fails when the document and the
declarations disagree.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from msgspec import NODEFAULT
from msgspec import inspect as mi

from . import preprocess, shapes
from . import protocol as p
from .checks import MAX_FLOAT, Shaped

CONVERSATION = (p.Hello, p.Welcome, p.Telemetry, p.Ack, p.Error)
BLOCKS: dict[str, tuple[type, ...]] = {
    "conversation": CONVERSATION,
    "server-to-agent": tuple(m for m in p.SERVER_MESSAGES.values() if m not in CONVERSATION),
    "agent-to-server": tuple(m for m in p.AGENT_MESSAGES.values() if m not in CONVERSATION),
    "shapes": (
        p.Record,
        shapes.DataplaneAddress,
        shapes.Stage,
        shapes.Hop,
        shapes.Entry,
        shapes.BudgetEdge,
        shapes.StreamSource,
        preprocess.Preprocess,
        shapes.Segment,
        shapes.PeerAddress,
        shapes.PeerLink,
        shapes.MeasuredLink,
    ),
}
_BLOCK = re.compile(r"(<!-- BEGIN wire:(?P<name>[\w-]+) -->\n).*?(<!-- END wire:(?P=name) -->)", re.S)


def tables() -> dict[str, str]:
    """Each block's markdown, by name."""
    out = {name: _message_table(kinds) for name, kinds in BLOCKS.items() if name != "shapes"}
    out["shapes"] = _shape_table(BLOCKS["shapes"])
    return out


def render(document: str) -> str:
    """``document`` with every generated block replaced by what the declarations say now."""
    generated = tables()

    def block(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in generated:
            raise KeyError(f"docs: unknown generated block wire:{name} (known: {', '.join(generated)})")
        return f"{match[1]}{generated[name]}\n{match[3]}"

    return _BLOCK.sub(block, document)


def _message_table(kinds: Iterable[type]) -> str:
    rows = ["| type | direction | fields | what it is |", "|---|---|---|---|"]
    for kind in kinds:
        direction = "agent → server" if kind in p.AGENT_MESSAGES.values() else "server → agent"
        name = kind.type  # type: ignore[attr-defined]
        rows.append(f"| `{name}` | {direction} | {_fields(kind)} | {_doc(kind)} |")
    return "\n".join(rows)


def _shape_table(kinds: Iterable[type]) -> str:
    used = _uses()
    rows = ["| object | in | fields | what it is |", "|---|---|---|---|"]
    for kind in kinds:
        where = ", ".join(f"`{w}`" for w in used.get(kind, ())) or "–"
        rows.append(f"| {kind.__name__} | {where} | {_fields(kind)} | {_doc(kind)} |")
    return "\n".join(rows)


def _uses() -> dict[type, list[str]]:
    """Where each shape appears: ``deploy.stages[]``, ``stage.next`` and so on."""
    used: dict[type, list[str]] = {}
    for kind in (*p.SERVER_MESSAGES.values(), *p.AGENT_MESSAGES.values()):
        for name, shape in _shaped(kind).items():
            inner, many = (
                (typing.get_args(shape)[0], "[]") if typing.get_origin(shape) is list else (shape, "")
            )
            used.setdefault(inner, []).append(f"{kind.type}.{name}{many}")  # type: ignore[attr-defined]
    used.setdefault(p.Record, []).append("telemetry.records[]")
    used.setdefault(shapes.Hop, []).append("Stage.next")
    return used


def _shaped(kind: type) -> dict[str, Any]:
    hints = typing.get_type_hints(kind, include_extras=True)
    return {
        name: meta.type
        for name, hint in hints.items()
        for meta in getattr(hint, "__metadata__", ())
        if isinstance(meta, Shaped)
    }


def _fields(kind: type) -> str:
    info = mi.type_info(kind)
    assert isinstance(info, mi.StructType)
    shaped = _shaped(kind)
    parts = []
    for field in info.fields:
        if field.name == "v":
            continue  # every message has it: the protocol version
        described = _describe(
            _shape_info(shaped[field.name], field.type) if field.name in shaped else field.type
        )
        text = f"`{field.encode_name}`: {described}"
        if not field.required:
            default = field.default if field.default is not NODEFAULT else field.default_factory()
            text += f" = {_literal(default)}"
        note = _description(field.type)
        parts.append(f"{text} ({note})" if note else text)
    return ", ".join(parts) or "–"


def _shape_info(shape: Any, declared: Any) -> Any:
    """The declared field's info with its plain-data part replaced by the shape's (nullability kept)."""
    info = mi.type_info(shape)
    nullable = isinstance(_unwrap(declared), mi.UnionType) and any(
        isinstance(t, mi.NoneType) for t in _unwrap(declared).types
    )
    return mi.UnionType((info, mi.NoneType())) if nullable else info


def _unwrap(info: Any) -> Any:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


def _description(info: Any) -> str:
    while isinstance(info, (mi.Metadata, mi.UnionType)):
        if isinstance(info, mi.Metadata):
            return str((info.extra_json_schema or {}).get("description", ""))
        info = next((t for t in info.types if isinstance(t, mi.Metadata)), info.types[0])
    return ""


def _describe(info: Any) -> str:
    info = _unwrap(info)
    if isinstance(info, mi.UnionType):
        return " or ".join(_describe(t) for t in info.types)
    if isinstance(info, mi.StructType):
        return info.cls.__name__
    if isinstance(info, mi.ListType):
        return f"[{_describe(info.item_type)}]" + _length(info)
    if isinstance(info, mi.DictType):
        return f"{{{_describe(info.key_type)}: {_describe(info.value_type)}}}" + _length(info)
    if isinstance(info, mi.LiteralType):
        return " or ".join(_literal(v) for v in info.values)
    if isinstance(info, (mi.IntType, mi.FloatType)):
        return _number(info)
    if isinstance(info, mi.StrType):
        return "string" + (f" (≤ {info.max_length} chars)" if info.max_length else "")
    names = {mi.BoolType: "bool", mi.NoneType: "null", mi.AnyType: "any"}
    return names.get(type(info), type(info).__name__)


def _number(info: Any) -> str:
    finite = isinstance(info, mi.FloatType) and info.le == MAX_FLOAT
    name = "finite number" if finite else "int" if isinstance(info, mi.IntType) else "number"
    bounds = [
        f"{sign} {bound:g}"
        for sign, bound in ((">", info.gt), ("≥", info.ge), ("<", info.lt), ("≤", info.le))
        if bound is not None and abs(bound) != MAX_FLOAT
    ]
    return " ".join([name, *bounds])


def _length(info: Any) -> str:
    if info.max_length:
        return f" (≤ {info.max_length})"
    if info.min_length:
        return f" (≥ {info.min_length})"
    return ""


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[]" if not value else str(list(value))
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _doc(kind: type) -> str:
    text = " ".join((kind.__doc__ or "").split())
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgeorch_wire.doc", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", metavar="PATH", type=Path, help="rewrite the generated tables in PATH")
    action.add_argument("--check", metavar="PATH", type=Path, help="exit 1 if PATH's tables are out of date")
    args = parser.parse_args(argv)
    if args.write is None and args.check is None:
        for name, table in tables().items():
            print(f"<!-- BEGIN wire:{name} -->\n{table}\n<!-- END wire:{name} -->\n")
        return 0
    path = args.write or args.check
    text = path.read_text(encoding="utf-8")
    fresh = render(text)
    if args.check is not None:
        if fresh != text:
            print(
                f"{path}: the message tables are out of date; run python -m edgeorch_wire.doc --write {path}"
            )
            return 1
        return 0
    path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
