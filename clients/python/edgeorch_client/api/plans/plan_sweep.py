from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cut_sweep_request import CutSweepRequest
from ...models.error import Error
from ...models.sweep import Sweep
from ...types import Response


def _get_kwargs(
    *,
    body: CutSweepRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/plans/sweep/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Sweep | None:
    if response.status_code == 200:
        response_200 = Sweep.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Sweep]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CutSweepRequest,
) -> Response[Error | Sweep]:
    """Every cut between a source and an edge device

     Every cut between a source and an edge device: device compute, transfer, edge compute, the source's
    joules; the fastest cut, the cheapest, and the one the objective picks.

    Args:
        body (CutSweepRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Sweep]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: CutSweepRequest,
) -> Error | Sweep | None:
    """Every cut between a source and an edge device

     Every cut between a source and an edge device: device compute, transfer, edge compute, the source's
    joules; the fastest cut, the cheapest, and the one the objective picks.

    Args:
        body (CutSweepRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Sweep
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CutSweepRequest,
) -> Response[Error | Sweep]:
    """Every cut between a source and an edge device

     Every cut between a source and an edge device: device compute, transfer, edge compute, the source's
    joules; the fastest cut, the cheapest, and the one the objective picks.

    Args:
        body (CutSweepRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Sweep]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CutSweepRequest,
) -> Error | Sweep | None:
    """Every cut between a source and an edge device

     Every cut between a source and an edge device: device compute, transfer, edge compute, the source's
    joules; the fastest cut, the cheapest, and the one the objective picks.

    Args:
        body (CutSweepRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Sweep
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
