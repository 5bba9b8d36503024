"""The OpenAPI schema as a script author (and a client generator) reads it.

- operationIds are ``noun_verb`` (``job_create``, ``job_cancel``, ``session_frames``): a viewset's own from
  its path and action, a plain view's given by its ``extend_schema(operation_id=...)``;
- every operation has a summary: the first sentence of its docstring, or one made from the noun and verb;
- every status an operation can answer is declared, the errors with the one ``Error`` shape (``ERROR``).
"""

from __future__ import annotations

import re

from drf_spectacular import openapi
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

VERBS = {
    "list": "list",
    "retrieve": "get",
    "create": "create",
    "update": "replace",
    "partial_update": "update",
    "destroy": "delete",
}
SUMMARIES = {
    "list": "List {nouns}",
    "get": "Read {a} {noun}",
    "create": "Create {a} {noun}",
    "replace": "Replace {a} {noun}",
    "update": "Update {a} {noun}",
    "delete": "Delete {a} {noun}",
}


class ErrorSerializer(serializers.Serializer):
    """Every error answer: ``detail`` says what is wrong with the request as a whole, and each field that
    was refused maps to its messages (``{"rate": ["a stream session needs a rate"]}``)."""

    detail = serializers.CharField(required=False, help_text="What went wrong, as one sentence")


ERROR = OpenApiResponse(ErrorSerializer, description="The error: `detail` and/or the refused fields")
ERROR_DESCRIPTIONS = {
    "400": "The request is invalid: `detail` or the refused fields say why",
    "401": "No or a wrong credential (`Authorization: Token KEY`)",
    "403": "The credential may not do this (viewers only read)",
    "404": "No such object",
    "429": "Too many requests: `Retry-After` says in how many seconds to try again",
}


class KeyScheme(KnoxTokenScheme):
    """People's API keys (edgeorch.api.keys): knox's scheme, for its subclass there."""

    target_class = "edgeorch.api.keys.TokenAuthentication"


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self) -> str:
        action = getattr(self.view, "action", None)
        if action is None:  # a plain view: its extend_schema names it
            return super().get_operation_id()
        return f"{self._noun()}_{VERBS.get(action, action)}"

    def get_summary(self) -> str | None:
        verb = VERBS.get(getattr(self.view, "action", None) or "")
        if verb:
            noun = self._noun().replace("_", " ")
            a = "an" if noun[0] in "aeiou" else "a"
            return SUMMARIES[verb].format(a=a, noun=noun, nouns=f"{noun}s")
        first = re.split(r"(?<=[.:;])\s|\n\n", self.get_description().strip(), maxsplit=1)[0]
        return " ".join(first.split()).rstrip(".:;") or None

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ERROR, code, direction=direction)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        queries = [p for p in self._get_parameters() if p.get("in") == "query"]
        if self.method in ("POST", "PUT", "PATCH") or queries:  # limit and offset are checked too
            codes.append("400")
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _noun(self) -> str:
        return self._tokenize_path()[0].replace("-", "_").removesuffix("s")


# The integer ranges of the database's columns differ between SQLite and PostgreSQL, and no value a script
# sends comes near them: the schema (one file for both) leaves them out.
BACKEND_LIMITS = {2**15 - 1, -(2**15), 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)}


def backend_limits_hook(result, generator, request, public):
    """Drop ``minimum``/``maximum`` that are a column's storage range rather than a rule of the API."""
    _drop_limits(result["components"]["schemas"])
    return result


def _drop_limits(node) -> None:
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for bound in ("minimum", "maximum"):
                if node.get(bound) in BACKEND_LIMITS:
                    del node[bound]
            if node.get("format") == "int64" and "maximum" not in node:
                del node["format"]
        for value in node.values():
            _drop_limits(value)
    elif isinstance(node, list):
        for value in node:
            _drop_limits(value)


def error_shape_hook(result, generator, request, public):
    """``Error`` also maps each refused field to its messages (a list, or an object for a nested field)."""
    error = result["components"]["schemas"].get("Error")
    if error is not None:
        error["additionalProperties"] = {
            "description": "A refused field's messages: a list of strings, or an object for a nested field"
        }
    return result
