import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dashboard_fleet_response_200 import DashboardFleetResponse200
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    points: int | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["points"] = points

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
        "url": "/api/dashboard/fleet/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DashboardFleetResponse200 | Error | None:
    if response.status_code == 200:
        response_200 = DashboardFleetResponse200.from_dict(response.json())

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
    points: int | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Response[DashboardFleetResponse200 | Error]:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    With ``since``, ``until`` or ``points`` the series cover ``[since, until)`` instead (``until``
    default
    now, ``since`` an hour before it), for the whole fleet in one request (the fleet page's range
    picker:
    1 h, 6 h, 24 h, 7 d or custom): ``bucket_s`` grows with the range (a multiple of 30 s, about
    ``points``
    buckets across it), ``since`` and ``until`` are echoed, and each bucket holds the peak of the stored
    30 s peaks or, older than the raw retention, of the one-minute roll-ups' means. A range that ends
    now
    takes the same events (they fold into its last bucket and the oldest drops out); one that ends
    earlier
    is a fixed picture.

    Args:
        points (int | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DashboardFleetResponse200 | Error]
    """

    kwargs = _get_kwargs(
        points=points,
        since=since,
        until=until,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    points: int | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> DashboardFleetResponse200 | Error | None:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    With ``since``, ``until`` or ``points`` the series cover ``[since, until)`` instead (``until``
    default
    now, ``since`` an hour before it), for the whole fleet in one request (the fleet page's range
    picker:
    1 h, 6 h, 24 h, 7 d or custom): ``bucket_s`` grows with the range (a multiple of 30 s, about
    ``points``
    buckets across it), ``since`` and ``until`` are echoed, and each bucket holds the peak of the stored
    30 s peaks or, older than the raw retention, of the one-minute roll-ups' means. A range that ends
    now
    takes the same events (they fold into its last bucket and the oldest drops out); one that ends
    earlier
    is a fixed picture.

    Args:
        points (int | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DashboardFleetResponse200 | Error
    """

    return sync_detailed(
        client=client,
        points=points,
        since=since,
        until=until,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    points: int | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> Response[DashboardFleetResponse200 | Error]:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    With ``since``, ``until`` or ``points`` the series cover ``[since, until)`` instead (``until``
    default
    now, ``since`` an hour before it), for the whole fleet in one request (the fleet page's range
    picker:
    1 h, 6 h, 24 h, 7 d or custom): ``bucket_s`` grows with the range (a multiple of 30 s, about
    ``points``
    buckets across it), ``since`` and ``until`` are echoed, and each bucket holds the peak of the stored
    30 s peaks or, older than the raw retention, of the one-minute roll-ups' means. A range that ends
    now
    takes the same events (they fold into its last bucket and the oldest drops out); one that ends
    earlier
    is a fixed picture.

    Args:
        points (int | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DashboardFleetResponse200 | Error]
    """

    kwargs = _get_kwargs(
        points=points,
        since=since,
        until=until,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    points: int | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
) -> DashboardFleetResponse200 | Error | None:
    """Every device

     Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with
    a
    fresh snapshot).

    With ``since``, ``until`` or ``points`` the series cover ``[since, until)`` instead (``until``
    default
    now, ``since`` an hour before it), for the whole fleet in one request (the fleet page's range
    picker:
    1 h, 6 h, 24 h, 7 d or custom): ``bucket_s`` grows with the range (a multiple of 30 s, about
    ``points``
    buckets across it), ``since`` and ``until`` are echoed, and each bucket holds the peak of the stored
    30 s peaks or, older than the raw retention, of the one-minute roll-ups' means. A range that ends
    now
    takes the same events (they fold into its last bucket and the oldest drops out); one that ends
    earlier
    is a fixed picture.

    Args:
        points (int | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DashboardFleetResponse200 | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            points=points,
            since=since,
            until=until,
        )
    ).parsed
