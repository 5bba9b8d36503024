from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.model_graph import ModelGraph
from ...types import Response


def _get_kwargs(
    id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/models/{id}/graph/".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ModelGraph | None:
    if response.status_code == 200:
        response_200 = ModelGraph.from_dict(response.json())

        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | ModelGraph]:
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
) -> Response[Error | ModelGraph]:
    """The model's operator graph for drawing

     The model's operator graph for drawing: inputs, operators (each with its block) and outputs as
    nodes, one edge per tensor and reader with its bytes, and ``cut`` on the edges whose tensor crosses
    a
    cut point; nodes computed from constants only are left out.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ModelGraph]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Error | ModelGraph | None:
    """The model's operator graph for drawing

     The model's operator graph for drawing: inputs, operators (each with its block) and outputs as
    nodes, one edge per tensor and reader with its bytes, and ``cut`` on the edges whose tensor crosses
    a
    cut point; nodes computed from constants only are left out.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ModelGraph
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Response[Error | ModelGraph]:
    """The model's operator graph for drawing

     The model's operator graph for drawing: inputs, operators (each with its block) and outputs as
    nodes, one edge per tensor and reader with its bytes, and ``cut`` on the edges whose tensor crosses
    a
    cut point; nodes computed from constants only are left out.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ModelGraph]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Error | ModelGraph | None:
    """The model's operator graph for drawing

     The model's operator graph for drawing: inputs, operators (each with its block) and outputs as
    nodes, one edge per tensor and reader with its bytes, and ``cut`` on the edges whose tensor crosses
    a
    cut point; nodes computed from constants only are left out.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ModelGraph
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
