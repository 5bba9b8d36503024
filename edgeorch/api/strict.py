"""JSON bodies are read as the schema types them. DRF's fields coerce what they are given (``"profile": 0``
becomes ``"0"``, ``"max_uses": "3"`` becomes 3, ``"failover": "yes"`` becomes True), so a body the schema
refuses was accepted. In a JSON body a string field takes only a string, an integer field a whole number, a
number field a number and a boolean field true or false; anything else is a 400 naming the field. Form and
multipart bodies (the uploads) and query strings carry only text, so they are converted as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import QueryDict
from rest_framework import fields


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


ACCEPTS: dict[type[fields.Field], Callable[[Any], bool]] = {
    fields.CharField: lambda value: isinstance(value, str),
    fields.IntegerField: lambda value: _number(value) and float(value).is_integer(),
    fields.FloatField: _number,
    fields.BooleanField: lambda value: isinstance(value, bool),
}


def install() -> None:
    """Wrap each field class's ``to_internal_value`` (``ApiConfig.ready``); subclasses (``EmailField``,
    ``SlugField``...) inherit it."""
    for field_class, accepts in ACCEPTS.items():
        if not getattr(field_class.to_internal_value, "strict_json", False):
            field_class.to_internal_value = _strict(  # type: ignore[method-assign]
                field_class.to_internal_value, accepts
            )


def _strict(convert: Callable, accepts: Callable[[Any], bool]) -> Callable:
    def to_internal_value(self, data):
        if not accepts(data) and _from_json(self):
            self.fail("invalid")
        return convert(self, data)

    to_internal_value.strict_json = True  # type: ignore[attr-defined]
    return to_internal_value


def _from_json(field: fields.Field) -> bool:
    """Whether the serializer reads parsed JSON: form, multipart and query data come as a QueryDict."""
    return not isinstance(getattr(field.root, "initial_data", QueryDict()), QueryDict)
