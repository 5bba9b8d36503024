from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.segment_manifest import SegmentManifest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: int,
    *,
    cuts: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["cuts"] = cuts

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/models/{id}/segments/".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | SegmentManifest | None:
    if response.status_code == 200:
        response_200 = SegmentManifest.from_dict(response.json())

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
) -> Response[Error | SegmentManifest]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    cuts: str | Unset = UNSET,
) -> Response[Error | SegmentManifest]:
    """The manifest of the segments for the given cuts

     The manifest of the segments for the given cuts: file URLs, hashes, inputs and outputs.

    Args:
        id (int):
        cuts (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SegmentManifest]
    """

    kwargs = _get_kwargs(
        id=id,
        cuts=cuts,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
    cuts: str | Unset = UNSET,
) -> Error | SegmentManifest | None:
    """The manifest of the segments for the given cuts

     The manifest of the segments for the given cuts: file URLs, hashes, inputs and outputs.

    Args:
        id (int):
        cuts (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SegmentManifest
    """

    return sync_detailed(
        id=id,
        client=client,
        cuts=cuts,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    cuts: str | Unset = UNSET,
) -> Response[Error | SegmentManifest]:
    """The manifest of the segments for the given cuts

     The manifest of the segments for the given cuts: file URLs, hashes, inputs and outputs.

    Args:
        id (int):
        cuts (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SegmentManifest]
    """

    kwargs = _get_kwargs(
        id=id,
        cuts=cuts,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
    cuts: str | Unset = UNSET,
) -> Error | SegmentManifest | None:
    """The manifest of the segments for the given cuts

     The manifest of the segments for the given cuts: file URLs, hashes, inputs and outputs.

    Args:
        id (int):
        cuts (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SegmentManifest
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            cuts=cuts,
        )
    ).parsed
