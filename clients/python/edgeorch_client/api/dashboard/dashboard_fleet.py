from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dashboard_fleet_response_200 import DashboardFleetResponse200
from ...models.error import Error
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/dashboard/fleet/",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DashboardFleetResponse200 | Error | None:
    if response.status_code == 200:
        response_200 = DashboardFleetResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DashboardFleetResponse200 | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[DashboardFleetResponse200 | Error]:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DashboardFleetResponse200 | Error]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> DashboardFleetResponse200 | Error | None:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DashboardFleetResponse200 | Error
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[DashboardFleetResponse200 | Error]:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DashboardFleetResponse200 | Error]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> DashboardFleetResponse200 | Error | None:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DashboardFleetResponse200 | Error
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
