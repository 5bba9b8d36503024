import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.telemetry_series import TelemetrySeries
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    max_points: int | Unset = UNSET,
    metric: str,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["max_points"] = max_points

    params["metric"] = metric

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
        "url": "/api/devices/{id}/telemetry/".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | TelemetrySeries | None:
    if response.status_code == 200:
        response_200 = TelemetrySeries.from_dict(response.json())

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
) -> Response[Error | TelemetrySeries]:
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
    max_points: int | Unset = UNSET,
    metric: str,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Response[Error | TelemetrySeries]:
    """One metric over a time range, downsampled on the server to at most ``max_points`` buckets

     One metric over a time range, downsampled on the server to at most ``max_points`` buckets.

    Args:
        id (UUID):
        max_points (int | Unset):
        metric (str):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TelemetrySeries]
    """

    kwargs = _get_kwargs(
        id=id,
        max_points=max_points,
        metric=metric,
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
    max_points: int | Unset = UNSET,
    metric: str,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Error | TelemetrySeries | None:
    """One metric over a time range, downsampled on the server to at most ``max_points`` buckets

     One metric over a time range, downsampled on the server to at most ``max_points`` buckets.

    Args:
        id (UUID):
        max_points (int | Unset):
        metric (str):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TelemetrySeries
    """

    return sync_detailed(
        id=id,
        client=client,
        max_points=max_points,
        metric=metric,
        since=since,
        until=until,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    max_points: int | Unset = UNSET,
    metric: str,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Response[Error | TelemetrySeries]:
    """One metric over a time range, downsampled on the server to at most ``max_points`` buckets

     One metric over a time range, downsampled on the server to at most ``max_points`` buckets.

    Args:
        id (UUID):
        max_points (int | Unset):
        metric (str):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TelemetrySeries]
    """

    kwargs = _get_kwargs(
        id=id,
        max_points=max_points,
        metric=metric,
        since=since,
        until=until,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    max_points: int | Unset = UNSET,
    metric: str,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Error | TelemetrySeries | None:
    """One metric over a time range, downsampled on the server to at most ``max_points`` buckets

     One metric over a time range, downsampled on the server to at most ``max_points`` buckets.

    Args:
        id (UUID):
        max_points (int | Unset):
        metric (str):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TelemetrySeries
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            max_points=max_points,
            metric=metric,
            since=since,
            until=until,
        )
    ).parsed
