from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.link_override_request import LinkOverrideRequest
    from ..models.overrides_request_queue import OverridesRequestQueue
    from ..models.overrides_request_throttle import OverridesRequestThrottle


T = TypeVar("T", bound="OverridesRequest")


@_attrs_define
class OverridesRequest:
    """
    Attributes:
        bandwidth_bps (float | Unset): Every link, bits/s
        rtt_ms (float | Unset): Every link
        radio (str | Unset): Every link's type for the energy model: wifi, lte or ethernet (default: wifi to an end
            device, else ethernet)
        radio_wakeup (bool | Unset): Sporadic requests: each inference wakes the radio (promotion + tail energy)
        links (list[LinkOverrideRequest] | Unset): One pair (either direction)
        throttle (OverridesRequestThrottle | Unset): device id -> factor >= 1
        queue (OverridesRequestQueue | Unset): device id -> requests ahead
    """

    bandwidth_bps: float | Unset = UNSET
    rtt_ms: float | Unset = UNSET
    radio: str | Unset = UNSET
    radio_wakeup: bool | Unset = UNSET
    links: list[LinkOverrideRequest] | Unset = UNSET
    throttle: OverridesRequestThrottle | Unset = UNSET
    queue: OverridesRequestQueue | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bandwidth_bps = self.bandwidth_bps

        rtt_ms = self.rtt_ms

        radio = self.radio

        radio_wakeup = self.radio_wakeup

        links: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.links, Unset):
            links = []
            for links_item_data in self.links:
                links_item = links_item_data.to_dict()
                links.append(links_item)

        throttle: dict[str, Any] | Unset = UNSET
        if not isinstance(self.throttle, Unset):
            throttle = self.throttle.to_dict()

        queue: dict[str, Any] | Unset = UNSET
        if not isinstance(self.queue, Unset):
            queue = self.queue.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if bandwidth_bps is not UNSET:
            field_dict["bandwidth_bps"] = bandwidth_bps
        if rtt_ms is not UNSET:
            field_dict["rtt_ms"] = rtt_ms
        if radio is not UNSET:
            field_dict["radio"] = radio
        if radio_wakeup is not UNSET:
            field_dict["radio_wakeup"] = radio_wakeup
        if links is not UNSET:
            field_dict["links"] = links
        if throttle is not UNSET:
            field_dict["throttle"] = throttle
        if queue is not UNSET:
            field_dict["queue"] = queue

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.link_override_request import LinkOverrideRequest  # noqa: PLC0415
        from ..models.overrides_request_queue import OverridesRequestQueue  # noqa: PLC0415
        from ..models.overrides_request_throttle import OverridesRequestThrottle  # noqa: PLC0415

        d = dict(src_dict)
        bandwidth_bps = d.pop("bandwidth_bps", UNSET)

        rtt_ms = d.pop("rtt_ms", UNSET)

        radio = d.pop("radio", UNSET)

        radio_wakeup = d.pop("radio_wakeup", UNSET)

        _links = d.pop("links", UNSET)
        links: list[LinkOverrideRequest] | Unset = UNSET
        if _links is not UNSET:
            links = []
            for links_item_data in _links:
                links_item = LinkOverrideRequest.from_dict(links_item_data)

                links.append(links_item)

        _throttle = d.pop("throttle", UNSET)
        throttle: OverridesRequestThrottle | Unset
        if isinstance(_throttle, Unset):
            throttle = UNSET
        else:
            throttle = OverridesRequestThrottle.from_dict(_throttle)

        _queue = d.pop("queue", UNSET)
        queue: OverridesRequestQueue | Unset
        if isinstance(_queue, Unset):
            queue = UNSET
        else:
            queue = OverridesRequestQueue.from_dict(_queue)

        overrides_request = cls(
            bandwidth_bps=bandwidth_bps,
            rtt_ms=rtt_ms,
            radio=radio,
            radio_wakeup=radio_wakeup,
            links=links,
            throttle=throttle,
            queue=queue,
        )

        overrides_request.additional_properties = d
        return overrides_request

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
