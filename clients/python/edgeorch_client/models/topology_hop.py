from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.topology_hop_kind import TopologyHopKind

if TYPE_CHECKING:
    from ..models.topology_hop_link_type_0 import TopologyHopLinkType0


T = TypeVar("T", bound="TopologyHop")


@_attrs_define
class TopologyHop:
    """
    Attributes:
        kind (TopologyHopKind): * `input` - input
            * `activation` - activation
            * `result` - result
        after_stage (int): -1: the input's hop to the first stage
        to (str):
        from_name (str):
        to_name (str):
        bytes_ (int | None): What crosses: the tensor's size
        transfer_s (float | None): Its measured send time (median)
        link (None | TopologyHopLinkType0): The latest probe of the link: bandwidth_bps, rtt_s, measured_at, direction
            (forward, or reverse where only the other way was measured); null: never measured
        from_ (str):
    """

    kind: TopologyHopKind
    after_stage: int
    to: str
    from_name: str
    to_name: str
    bytes_: int | None
    transfer_s: float | None
    link: None | TopologyHopLinkType0
    from_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.topology_hop_link_type_0 import TopologyHopLinkType0  # noqa: PLC0415

        kind = self.kind.value

        after_stage = self.after_stage

        to = self.to

        from_name = self.from_name

        to_name = self.to_name

        bytes_: int | None
        bytes_ = self.bytes_

        transfer_s: float | None
        transfer_s = self.transfer_s

        link: dict[str, Any] | None
        if isinstance(self.link, TopologyHopLinkType0):
            link = self.link.to_dict()
        else:
            link = self.link

        from_ = self.from_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "after_stage": after_stage,
                "to": to,
                "from_name": from_name,
                "to_name": to_name,
                "bytes": bytes_,
                "transfer_s": transfer_s,
                "link": link,
                "from": from_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.topology_hop_link_type_0 import TopologyHopLinkType0  # noqa: PLC0415

        d = dict(src_dict)
        kind = TopologyHopKind(d.pop("kind"))

        after_stage = d.pop("after_stage")

        to = d.pop("to")

        from_name = d.pop("from_name")

        to_name = d.pop("to_name")

        def _parse_bytes_(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        bytes_ = _parse_bytes_(d.pop("bytes"))

        def _parse_transfer_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        transfer_s = _parse_transfer_s(d.pop("transfer_s"))

        def _parse_link(data: object) -> None | TopologyHopLinkType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                link_type_0 = TopologyHopLinkType0.from_dict(data)

                return link_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TopologyHopLinkType0, data)

        link = _parse_link(d.pop("link"))

        from_ = d.pop("from")

        topology_hop = cls(
            kind=kind,
            after_stage=after_stage,
            to=to,
            from_name=from_name,
            to_name=to_name,
            bytes_=bytes_,
            transfer_s=transfer_s,
            link=link,
            from_=from_,
        )

        topology_hop.additional_properties = d
        return topology_hop

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
