from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dashboard_users_response_200 import DashboardUsersResponse200
from ...models.error import Error
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/dashboard/users/",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DashboardUsersResponse200 | Error | None:
    if response.status_code == 200:
        response_200 = DashboardUsersResponse200.from_dict(response.json())

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
) -> Response[DashboardUsersResponse200 | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[DashboardUsersResponse200 | Error]:
    """Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users")

     Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users"). ``devices``: every edge server and every device serving a session, with ``qos`` (``queued``
    frames, least ``slack_s``, ``dropped`` so far) from its newest telemetry record. ``sessions``: per
    running
    session its ``owner``, ``source``, ``model``, ``priority``, ``deadline_s``, ``served_by`` (device
    ids),
    counts so far (``frames``, ``judged``: with a deadline, ``misses``, ``dropped``, ``failed``) and
    ``miss_rate`` (misses / judged; drops apart), ``configs`` (frames per configuration the answers
    record;
    ``""``: the plan's route, ``route`` its cuts) and ``config`` (the newest frame's), and over its last
    ``recent_frames`` frames ``recent_stats`` (``frames``, ``misses``, ``dropped``, ``miss_rate``).

    Apply ``/ws/dashboard/`` events of topics ``users``, ``runs`` and ``fleet`` to keep it current
    (``session.running`` and ``plan.switch``: load a fresh one).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DashboardUsersResponse200 | Error]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> DashboardUsersResponse200 | Error | None:
    """Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users")

     Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users"). ``devices``: every edge server and every device serving a session, with ``qos`` (``queued``
    frames, least ``slack_s``, ``dropped`` so far) from its newest telemetry record. ``sessions``: per
    running
    session its ``owner``, ``source``, ``model``, ``priority``, ``deadline_s``, ``served_by`` (device
    ids),
    counts so far (``frames``, ``judged``: with a deadline, ``misses``, ``dropped``, ``failed``) and
    ``miss_rate`` (misses / judged; drops apart), ``configs`` (frames per configuration the answers
    record;
    ``""``: the plan's route, ``route`` its cuts) and ``config`` (the newest frame's), and over its last
    ``recent_frames`` frames ``recent_stats`` (``frames``, ``misses``, ``dropped``, ``miss_rate``).

    Apply ``/ws/dashboard/`` events of topics ``users``, ``runs`` and ``fleet`` to keep it current
    (``session.running`` and ``plan.switch``: load a fresh one).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DashboardUsersResponse200 | Error
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[DashboardUsersResponse200 | Error]:
    """Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users")

     Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users"). ``devices``: every edge server and every device serving a session, with ``qos`` (``queued``
    frames, least ``slack_s``, ``dropped`` so far) from its newest telemetry record. ``sessions``: per
    running
    session its ``owner``, ``source``, ``model``, ``priority``, ``deadline_s``, ``served_by`` (device
    ids),
    counts so far (``frames``, ``judged``: with a deadline, ``misses``, ``dropped``, ``failed``) and
    ``miss_rate`` (misses / judged; drops apart), ``configs`` (frames per configuration the answers
    record;
    ``""``: the plan's route, ``route`` its cuts) and ``config`` (the newest frame's), and over its last
    ``recent_frames`` frames ``recent_stats`` (``frames``, ``misses``, ``dropped``, ``miss_rate``).

    Apply ``/ws/dashboard/`` events of topics ``users``, ``runs`` and ``fleet`` to keep it current
    (``session.running`` and ``plan.switch``: load a fresh one).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DashboardUsersResponse200 | Error]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> DashboardUsersResponse200 | Error | None:
    """Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users")

     Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users"). ``devices``: every edge server and every device serving a session, with ``qos`` (``queued``
    frames, least ``slack_s``, ``dropped`` so far) from its newest telemetry record. ``sessions``: per
    running
    session its ``owner``, ``source``, ``model``, ``priority``, ``deadline_s``, ``served_by`` (device
    ids),
    counts so far (``frames``, ``judged``: with a deadline, ``misses``, ``dropped``, ``failed``) and
    ``miss_rate`` (misses / judged; drops apart), ``configs`` (frames per configuration the answers
    record;
    ``""``: the plan's route, ``route`` its cuts) and ``config`` (the newest frame's), and over its last
    ``recent_frames`` frames ``recent_stats`` (``frames``, ``misses``, ``dropped``, ``miss_rate``).

    Apply ``/ws/dashboard/`` events of topics ``users``, ``runs`` and ``fleet`` to keep it current
    (``session.running`` and ``plan.switch``: load a fresh one).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DashboardUsersResponse200 | Error
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
