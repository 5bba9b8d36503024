from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PriorityCounts")


@_attrs_define
class PriorityCounts:
    """A session's frames of one priority class.

    Attributes:
        frames (int):
        ok (int):
        deadline_misses (int):
        dropped (int):
        p99_s (float | None):
    """

    frames: int
    ok: int
    deadline_misses: int
    dropped: int
    p99_s: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frames = self.frames

        ok = self.ok

        deadline_misses = self.deadline_misses

        dropped = self.dropped

        p99_s: float | None
        p99_s = self.p99_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frames": frames,
                "ok": ok,
                "deadline_misses": deadline_misses,
                "dropped": dropped,
                "p99_s": p99_s,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        frames = d.pop("frames")

        ok = d.pop("ok")

        deadline_misses = d.pop("deadline_misses")

        dropped = d.pop("dropped")

        def _parse_p99_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        p99_s = _parse_p99_s(d.pop("p99_s"))

        priority_counts = cls(
            frames=frames,
            ok=ok,
            deadline_misses=deadline_misses,
            dropped=dropped,
            p99_s=p99_s,
        )

        priority_counts.additional_properties = d
        return priority_counts

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
