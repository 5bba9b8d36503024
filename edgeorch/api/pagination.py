"""Lists are paged with ``?limit=&offset=``, as the schema says: whole numbers, limit at least 1, offset at
least 0. DRF's own class quietly ignores a value it cannot read and answers the first page; here it is a 400
naming the parameter, so a script's mistake is seen."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 10_000  # a larger limit gives this many (the database refuses past 64 bits)
    max_offset = 2**62  # past any list's end: an empty page

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1 if parameter["name"] == self.limit_query_param else 0
        return parameters

    def get_limit(self, request):
        if self.limit_query_param in request.query_params:
            limit = _integer(request, self.limit_query_param, minimum=1)
            return min(limit, self.max_limit) if self.max_limit else limit
        return self.default_limit

    def get_offset(self, request):
        if self.offset_query_param in request.query_params:
            return min(_integer(request, self.offset_query_param, minimum=0), self.max_offset)
        return 0


def _integer(request, name: str, minimum: int) -> int:
    raw = request.query_params.get(name, "")
    values = request.query_params.getlist(name)
    if len(values) != 1 or not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise ValidationError({name: [f"A whole number of at least {minimum}, given once."]})
    return int(raw)
