from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Link")


@_attrs_define
class Link:
    """One link sample as seen from ``context["device"]``: ``out`` from it, ``in`` to it.

    Attributes:
        direction (str):
        peer (None | str): The other device's id; null: the control plane
        peer_name (str):
        bandwidth_bps (float):
        rtt_s (float):
        jitter_s (float):
        loss (float):
        measured_at (datetime.datetime):
    """

    direction: str
    peer: None | str
    peer_name: str
    bandwidth_bps: float
    rtt_s: float
    jitter_s: float
    loss: float
    measured_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        direction = self.direction

        peer: None | str
        peer = self.peer

        peer_name = self.peer_name

        bandwidth_bps = self.bandwidth_bps

        rtt_s = self.rtt_s

        jitter_s = self.jitter_s

        loss = self.loss

        measured_at = self.measured_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "direction": direction,
                "peer": peer,
                "peer_name": peer_name,
                "bandwidth_bps": bandwidth_bps,
                "rtt_s": rtt_s,
                "jitter_s": jitter_s,
                "loss": loss,
                "measured_at": measured_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        direction = d.pop("direction")

        def _parse_peer(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        peer = _parse_peer(d.pop("peer"))

        peer_name = d.pop("peer_name")

        bandwidth_bps = d.pop("bandwidth_bps")

        rtt_s = d.pop("rtt_s")

        jitter_s = d.pop("jitter_s")

        loss = d.pop("loss")

        measured_at = datetime.datetime.fromisoformat(d.pop("measured_at"))

        link = cls(
            direction=direction,
            peer=peer,
            peer_name=peer_name,
            bandwidth_bps=bandwidth_bps,
            rtt_s=rtt_s,
            jitter_s=jitter_s,
            loss=loss,
            measured_at=measured_at,
        )

        link.additional_properties = d
        return link

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
