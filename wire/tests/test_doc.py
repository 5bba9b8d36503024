"""docs/protocol.md's message tables are what the declarations say (edgeorch_wire.doc generates them)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from edgeorch_wire import doc, protocol

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
COMMAND = ".venv/bin/python -m edgeorch_wire.doc --write docs/protocol.md"


def test_the_protocol_doc_shows_the_declared_messages():
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    assert doc.render(text) == text, f"docs/protocol.md's message tables are out of date: run {COMMAND}"


def test_every_message_and_shape_has_a_generated_table_in_the_doc():
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    for name in doc.BLOCKS:
        assert f"<!-- BEGIN wire:{name} -->" in text and f"<!-- END wire:{name} -->" in text
    documented = {m for kinds in doc.BLOCKS.values() for m in kinds}
    assert set(protocol.AGENT_MESSAGES.values()) | set(protocol.SERVER_MESSAGES.values()) <= documented


def test_a_changed_declaration_makes_the_doc_stale(monkeypatch):
    text = PROTOCOL_MD.read_text(encoding="utf-8")

    class Ping(protocol.Message, tag="ping"):
        """A message no document knows yet."""

        nonce: int

    Ping.type = "ping"
    monkeypatch.setitem(doc.BLOCKS, "conversation", (*doc.BLOCKS["conversation"], Ping))
    assert "`ping`" in doc.render(text) and doc.render(text) != text
    assert doc.main(["--check", str(PROTOCOL_MD)]) == 1


def test_a_document_naming_an_unknown_block_is_an_error():
    with pytest.raises(KeyError, match="wire:nonsense"):
        doc.render("<!-- BEGIN wire:nonsense -->\n<!-- END wire:nonsense -->\n")


def test_the_tables_say_each_fields_type_default_and_bounds():
    tables = doc.tables()
    assert "`threads`: int > 0 or null = null" in tables["server-to-agent"]
    assert "`share`: number ≥ 0 < 1" in tables["server-to-agent"]
    assert "`records`: [Record] (≤ 5000)" in tables["conversation"]
    assert "| Stage | `deploy.stages[]` |" in tables["shapes"]
    assert msgspec.inspect.type_info(protocol.Tenant)  # the tables come from msgspec's own view of the types
