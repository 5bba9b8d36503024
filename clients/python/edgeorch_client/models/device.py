from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_role import DeviceRole
from ..models.device_status import DeviceStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.device_liveness import DeviceLiveness


T = TypeVar("T", bound="Device")


@_attrs_define
class Device:
    """
    Attributes:
        id (UUID):
        name (str):
        status (DeviceStatus): * `pending` - Enrolled, never connected
            * `online` - Online
            * `offline` - Offline
            * `revoked` - Revoked
        online (bool):
        last_seen (datetime.datetime | None):
        connected_at (datetime.datetime | None):
        enrolled_at (datetime.datetime):
        revoked_at (datetime.datetime | None):
        hostname (str):
        agent_version (str):
        inventory (Any):
        dataplane_host (str):
        dataplane_port (int | None):
        serve_host (str):
        serve_port (int | None):
        last_seq (int):
        dropped_records (int):
        liveness (DeviceLiveness): The rules behind ``status``, so nobody has to guess them.
        role (DeviceRole | Unset): * `end` - End device
            * `edge` - Edge server
        profile (str | Unset):
        tags (list[str] | Unset): The operator's labels (at most 16; a tag is 1 to 32 letters, digits or . - _ :
            (starting with a letter or digit)); PATCH replaces the list
    """

    id: UUID
    name: str
    status: DeviceStatus
    online: bool
    last_seen: datetime.datetime | None
    connected_at: datetime.datetime | None
    enrolled_at: datetime.datetime
    revoked_at: datetime.datetime | None
    hostname: str
    agent_version: str
    inventory: Any
    dataplane_host: str
    dataplane_port: int | None
    serve_host: str
    serve_port: int | None
    last_seq: int
    dropped_records: int
    liveness: DeviceLiveness
    role: DeviceRole | Unset = UNSET
    profile: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        status = self.status.value

        online = self.online

        last_seen: None | str
        if isinstance(self.last_seen, datetime.datetime):
            last_seen = self.last_seen.isoformat()
        else:
            last_seen = self.last_seen

        connected_at: None | str
        if isinstance(self.connected_at, datetime.datetime):
            connected_at = self.connected_at.isoformat()
        else:
            connected_at = self.connected_at

        enrolled_at = self.enrolled_at.isoformat()

        revoked_at: None | str
        if isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        hostname = self.hostname

        agent_version = self.agent_version

        inventory = self.inventory

        dataplane_host = self.dataplane_host

        dataplane_port: int | None
        dataplane_port = self.dataplane_port

        serve_host = self.serve_host

        serve_port: int | None
        serve_port = self.serve_port

        last_seq = self.last_seq

        dropped_records = self.dropped_records

        liveness = self.liveness.to_dict()

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        profile = self.profile

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "status": status,
                "online": online,
                "last_seen": last_seen,
                "connected_at": connected_at,
                "enrolled_at": enrolled_at,
                "revoked_at": revoked_at,
                "hostname": hostname,
                "agent_version": agent_version,
                "inventory": inventory,
                "dataplane_host": dataplane_host,
                "dataplane_port": dataplane_port,
                "serve_host": serve_host,
                "serve_port": serve_port,
                "last_seq": last_seq,
                "dropped_records": dropped_records,
                "liveness": liveness,
            }
        )
        if role is not UNSET:
            field_dict["role"] = role
        if profile is not UNSET:
            field_dict["profile"] = profile
        if tags is not UNSET:
            field_dict["tags"] = tags

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.device_liveness import DeviceLiveness  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        status = DeviceStatus(d.pop("status"))

        online = d.pop("online")

        def _parse_last_seen(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_seen_type_0 = datetime.datetime.fromisoformat(data)

                return last_seen_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_seen = _parse_last_seen(d.pop("last_seen"))

        def _parse_connected_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                connected_at_type_0 = datetime.datetime.fromisoformat(data)

                return connected_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        connected_at = _parse_connected_at(d.pop("connected_at"))

        enrolled_at = datetime.datetime.fromisoformat(d.pop("enrolled_at"))

        def _parse_revoked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at"))

        hostname = d.pop("hostname")

        agent_version = d.pop("agent_version")

        inventory = d.pop("inventory")

        dataplane_host = d.pop("dataplane_host")

        def _parse_dataplane_port(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        dataplane_port = _parse_dataplane_port(d.pop("dataplane_port"))

        serve_host = d.pop("serve_host")

        def _parse_serve_port(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        serve_port = _parse_serve_port(d.pop("serve_port"))

        last_seq = d.pop("last_seq")

        dropped_records = d.pop("dropped_records")

        liveness = DeviceLiveness.from_dict(d.pop("liveness"))

        _role = d.pop("role", UNSET)
        role: DeviceRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = DeviceRole(_role)

        profile = d.pop("profile", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))

        device = cls(
            id=id,
            name=name,
            status=status,
            online=online,
            last_seen=last_seen,
            connected_at=connected_at,
            enrolled_at=enrolled_at,
            revoked_at=revoked_at,
            hostname=hostname,
            agent_version=agent_version,
            inventory=inventory,
            dataplane_host=dataplane_host,
            dataplane_port=dataplane_port,
            serve_host=serve_host,
            serve_port=serve_port,
            last_seq=last_seq,
            dropped_records=dropped_records,
            liveness=liveness,
            role=role,
            profile=profile,
            tags=tags,
        )

        device.additional_properties = d
        return device

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
