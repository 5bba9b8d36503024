from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.device_list_ordering import DeviceListOrdering
from ...models.device_list_role import DeviceListRole
from ...models.device_list_status import DeviceListStatus
from ...models.error import Error
from ...models.paginated_device_list import PaginatedDeviceList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    ordering: DeviceListOrdering | Unset = DeviceListOrdering.NAME,
    profile: str | Unset = UNSET,
    role: DeviceListRole | Unset = UNSET,
    search: str | Unset = UNSET,
    status: DeviceListStatus | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    json_ordering: str | Unset = UNSET
    if not isinstance(ordering, Unset):
        json_ordering = ordering.value

    params["ordering"] = json_ordering

    params["profile"] = profile

    json_role: str | Unset = UNSET
    if not isinstance(role, Unset):
        json_role = role.value

    params["role"] = json_role

    params["search"] = search

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["tag"] = tag

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/devices/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | PaginatedDeviceList | None:
    if response.status_code == 200:
        response_200 = PaginatedDeviceList.from_dict(response.json())

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
) -> Response[Error | PaginatedDeviceList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    ordering: DeviceListOrdering | Unset = DeviceListOrdering.NAME,
    profile: str | Unset = UNSET,
    role: DeviceListRole | Unset = UNSET,
    search: str | Unset = UNSET,
    status: DeviceListStatus | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> Response[Error | PaginatedDeviceList]:
    """List devices

     The fleet, a page at a time: `search` (name, hostname or tag), `status`, `role`, `profile`, `tag`
    and `ordering`; a value it does not know answers 400 saying which are valid.

    Args:
        limit (int | Unset):
        offset (int | Unset):
        ordering (DeviceListOrdering | Unset):  Default: DeviceListOrdering.NAME.
        profile (str | Unset):
        role (DeviceListRole | Unset):
        search (str | Unset):
        status (DeviceListStatus | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PaginatedDeviceList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        ordering=ordering,
        profile=profile,
        role=role,
        search=search,
        status=status,
        tag=tag,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    ordering: DeviceListOrdering | Unset = DeviceListOrdering.NAME,
    profile: str | Unset = UNSET,
    role: DeviceListRole | Unset = UNSET,
    search: str | Unset = UNSET,
    status: DeviceListStatus | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> Error | PaginatedDeviceList | None:
    """List devices

     The fleet, a page at a time: `search` (name, hostname or tag), `status`, `role`, `profile`, `tag`
    and `ordering`; a value it does not know answers 400 saying which are valid.

    Args:
        limit (int | Unset):
        offset (int | Unset):
        ordering (DeviceListOrdering | Unset):  Default: DeviceListOrdering.NAME.
        profile (str | Unset):
        role (DeviceListRole | Unset):
        search (str | Unset):
        status (DeviceListStatus | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PaginatedDeviceList
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        ordering=ordering,
        profile=profile,
        role=role,
        search=search,
        status=status,
        tag=tag,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    ordering: DeviceListOrdering | Unset = DeviceListOrdering.NAME,
    profile: str | Unset = UNSET,
    role: DeviceListRole | Unset = UNSET,
    search: str | Unset = UNSET,
    status: DeviceListStatus | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> Response[Error | PaginatedDeviceList]:
    """List devices

     The fleet, a page at a time: `search` (name, hostname or tag), `status`, `role`, `profile`, `tag`
    and `ordering`; a value it does not know answers 400 saying which are valid.

    Args:
        limit (int | Unset):
        offset (int | Unset):
        ordering (DeviceListOrdering | Unset):  Default: DeviceListOrdering.NAME.
        profile (str | Unset):
        role (DeviceListRole | Unset):
        search (str | Unset):
        status (DeviceListStatus | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PaginatedDeviceList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        ordering=ordering,
        profile=profile,
        role=role,
        search=search,
        status=status,
        tag=tag,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    offset: int | Unset = UNSET,
    ordering: DeviceListOrdering | Unset = DeviceListOrdering.NAME,
    profile: str | Unset = UNSET,
    role: DeviceListRole | Unset = UNSET,
    search: str | Unset = UNSET,
    status: DeviceListStatus | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> Error | PaginatedDeviceList | None:
    """List devices

     The fleet, a page at a time: `search` (name, hostname or tag), `status`, `role`, `profile`, `tag`
    and `ordering`; a value it does not know answers 400 saying which are valid.

    Args:
        limit (int | Unset):
        offset (int | Unset):
        ordering (DeviceListOrdering | Unset):  Default: DeviceListOrdering.NAME.
        profile (str | Unset):
        role (DeviceListRole | Unset):
        search (str | Unset):
        status (DeviceListStatus | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PaginatedDeviceList
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            ordering=ordering,
            profile=profile,
            role=role,
            search=search,
            status=status,
            tag=tag,
        )
    ).parsed
