from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.deployment_topology import DeploymentTopology
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    frames: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["frames"] = frames

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/deployments/{id}/topology/".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeploymentTopology | Error | None:
    if response.status_code == 200:
        response_200 = DeploymentTopology.from_dict(response.json())

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
) -> Response[DeploymentTopology | Error]:
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
    frames: int | Unset = 20,
) -> Response[DeploymentTopology | Error]:
    """The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology")

     The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology").

    Args:
        id (UUID):
        frames (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentTopology | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        frames=frames,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    frames: int | Unset = 20,
) -> DeploymentTopology | Error | None:
    """The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology")

     The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology").

    Args:
        id (UUID):
        frames (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentTopology | Error
    """

    return sync_detailed(
        id=id,
        client=client,
        frames=frames,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    frames: int | Unset = 20,
) -> Response[DeploymentTopology | Error]:
    """The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology")

     The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology").

    Args:
        id (UUID):
        frames (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentTopology | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        frames=frames,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    frames: int | Unset = 20,
) -> DeploymentTopology | Error | None:
    """The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology")

     The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
    with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
    newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
    "Topology").

    Args:
        id (UUID):
        frames (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentTopology | Error
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            frames=frames,
        )
    ).parsed
