from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.alert_rule_kind import AlertRuleKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="PatchedRuleRequest")


@_attrs_define
class PatchedRuleRequest:
    """
    Attributes:
        name (str | Unset):
        kind (AlertRuleKind | Unset): * `temperature_above` - Temperature above
            * `throttled_for` - Throttled for longer than
            * `offline_for` - Offline for longer than
            * `deadline_miss_rate_above` - Deadline-miss rate above
        threshold (float | None | Unset): temperature_above: °C (-50..200); deadline_miss_rate_above: the share of
            frames, 0..1
        duration_s (float | None | Unset): throttled_for/offline_for: for longer than this (s);
            deadline_miss_rate_above: its window
        device (None | str | Unset): A device id or name; null or absent: every device
        enabled (bool | Unset):
        emails (list[str] | Unset): Told by email
        webhook_url (str | Unset): An http(s) URL POSTed JSON
    """

    name: str | Unset = UNSET
    kind: AlertRuleKind | Unset = UNSET
    threshold: float | None | Unset = UNSET
    duration_s: float | None | Unset = UNSET
    device: None | str | Unset = UNSET
    enabled: bool | Unset = UNSET
    emails: list[str] | Unset = UNSET
    webhook_url: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold

        duration_s: float | None | Unset
        if isinstance(self.duration_s, Unset):
            duration_s = UNSET
        else:
            duration_s = self.duration_s

        device: None | str | Unset
        if isinstance(self.device, Unset):
            device = UNSET
        else:
            device = self.device

        enabled = self.enabled

        emails: list[str] | Unset = UNSET
        if not isinstance(self.emails, Unset):
            emails = self.emails

        webhook_url = self.webhook_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if kind is not UNSET:
            field_dict["kind"] = kind
        if threshold is not UNSET:
            field_dict["threshold"] = threshold
        if duration_s is not UNSET:
            field_dict["duration_s"] = duration_s
        if device is not UNSET:
            field_dict["device"] = device
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if emails is not UNSET:
            field_dict["emails"] = emails
        if webhook_url is not UNSET:
            field_dict["webhook_url"] = webhook_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        _kind = d.pop("kind", UNSET)
        kind: AlertRuleKind | Unset
        if isinstance(_kind, Unset):
            kind = UNSET
        else:
            kind = AlertRuleKind(_kind)

        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))

        def _parse_duration_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        duration_s = _parse_duration_s(d.pop("duration_s", UNSET))

        def _parse_device(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device = _parse_device(d.pop("device", UNSET))

        enabled = d.pop("enabled", UNSET)

        emails = cast(list[str], d.pop("emails", UNSET))

        webhook_url = d.pop("webhook_url", UNSET)

        patched_rule_request = cls(
            name=name,
            kind=kind,
            threshold=threshold,
            duration_s=duration_s,
            device=device,
            enabled=enabled,
            emails=emails,
            webhook_url=webhook_url,
        )

        patched_rule_request.additional_properties = d
        return patched_rule_request

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
