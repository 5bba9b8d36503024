import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.devices_telemetry_export_format import DevicesTelemetryExportFormat
from ...models.devices_telemetry_export_response_200 import DevicesTelemetryExportResponse200
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    format_: DevicesTelemetryExportFormat | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/devices/{id}/telemetry/export/".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DevicesTelemetryExportResponse200 | Error | None:
    if response.status_code == 200:
        response_200 = DevicesTelemetryExportResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DevicesTelemetryExportResponse200 | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    format_: DevicesTelemetryExportFormat | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Response[DevicesTelemetryExportResponse200 | Error]:
    """Every record of the range as a download, one row each (``t``, ``samples``, a column per metric)

     Every record of the range as a download, one row each (``t``, ``samples``, a column per metric);
    ranges past the raw retention come from the one-minute roll-ups. At most EXPORT_LIMIT rows.

    Args:
        id (UUID):
        format_ (DevicesTelemetryExportFormat | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DevicesTelemetryExportResponse200 | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        format_=format_,
        since=since,
        until=until,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    format_: DevicesTelemetryExportFormat | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> DevicesTelemetryExportResponse200 | Error | None:
    """Every record of the range as a download, one row each (``t``, ``samples``, a column per metric)

     Every record of the range as a download, one row each (``t``, ``samples``, a column per metric);
    ranges past the raw retention come from the one-minute roll-ups. At most EXPORT_LIMIT rows.

    Args:
        id (UUID):
        format_ (DevicesTelemetryExportFormat | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DevicesTelemetryExportResponse200 | Error
    """

    return sync_detailed(
        id=id,
        client=client,
        format_=format_,
        since=since,
        until=until,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    format_: DevicesTelemetryExportFormat | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Response[DevicesTelemetryExportResponse200 | Error]:
    """Every record of the range as a download, one row each (``t``, ``samples``, a column per metric)

     Every record of the range as a download, one row each (``t``, ``samples``, a column per metric);
    ranges past the raw retention come from the one-minute roll-ups. At most EXPORT_LIMIT rows.

    Args:
        id (UUID):
        format_ (DevicesTelemetryExportFormat | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DevicesTelemetryExportResponse200 | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        format_=format_,
        since=since,
        until=until,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    format_: DevicesTelemetryExportFormat | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> DevicesTelemetryExportResponse200 | Error | None:
    """Every record of the range as a download, one row each (``t``, ``samples``, a column per metric)

     Every record of the range as a download, one row each (``t``, ``samples``, a column per metric);
    ranges past the raw retention come from the one-minute roll-ups. At most EXPORT_LIMIT rows.

    Args:
        id (UUID):
        format_ (DevicesTelemetryExportFormat | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DevicesTelemetryExportResponse200 | Error
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            format_=format_,
            since=since,
            until=until,
        )
    ).parsed
