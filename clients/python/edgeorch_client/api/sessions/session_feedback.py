from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.feedback_request import FeedbackRequest
from ...models.feedback_result import FeedbackResult
from ...types import Response


def _get_kwargs(
    id: UUID,
    *,
    body: FeedbackRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/sessions/{id}/feedback/".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | FeedbackResult | None:
    if response.status_code == 200:
        response_200 = FeedbackResult.from_dict(response.json())

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
) -> Response[Error | FeedbackResult]:
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
    body: FeedbackRequest,
) -> Response[Error | FeedbackResult]:
    """A user's score of one frame (`request_id`) or a window (`from`, `to`

     A user's score of one frame (`request_id`) or a window (`from`, `to`: request ids, inclusive),
    0 (bad) to 1 (good): kept on each frame; a qoe-bandit session blends it into the QoE of the window
    it
    judges next (docs/learning.md). 400 when no frame of the session is in that range yet.

    Args:
        id (UUID):
        body (FeedbackRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FeedbackResult]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: FeedbackRequest,
) -> Error | FeedbackResult | None:
    """A user's score of one frame (`request_id`) or a window (`from`, `to`

     A user's score of one frame (`request_id`) or a window (`from`, `to`: request ids, inclusive),
    0 (bad) to 1 (good): kept on each frame; a qoe-bandit session blends it into the QoE of the window
    it
    judges next (docs/learning.md). 400 when no frame of the session is in that range yet.

    Args:
        id (UUID):
        body (FeedbackRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FeedbackResult
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: FeedbackRequest,
) -> Response[Error | FeedbackResult]:
    """A user's score of one frame (`request_id`) or a window (`from`, `to`

     A user's score of one frame (`request_id`) or a window (`from`, `to`: request ids, inclusive),
    0 (bad) to 1 (good): kept on each frame; a qoe-bandit session blends it into the QoE of the window
    it
    judges next (docs/learning.md). 400 when no frame of the session is in that range yet.

    Args:
        id (UUID):
        body (FeedbackRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FeedbackResult]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: FeedbackRequest,
) -> Error | FeedbackResult | None:
    """A user's score of one frame (`request_id`) or a window (`from`, `to`

     A user's score of one frame (`request_id`) or a window (`from`, `to`: request ids, inclusive),
    0 (bad) to 1 (good): kept on each frame; a qoe-bandit session blends it into the QoE of the window
    it
    judges next (docs/learning.md). 400 when no frame of the session is in that range yet.

    Args:
        id (UUID):
        body (FeedbackRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FeedbackResult
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
