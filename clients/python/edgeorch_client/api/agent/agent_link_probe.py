from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.link_probe_receipt import LinkProbeReceipt
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/agent/link-probe/",
    }

    if not isinstance(body, Unset):
        _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | LinkProbeReceipt | None:
    if response.status_code == 200:
        response_200 = LinkProbeReceipt.from_dict(response.json())

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

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | LinkProbeReceipt]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
) -> Response[Error | LinkProbeReceipt]:
    """Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``)

     Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``). The body is counted and dropped.

    Args:
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LinkProbeReceipt]
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
    body: File | Unset = UNSET,
) -> Error | LinkProbeReceipt | None:
    """Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``)

     Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``). The body is counted and dropped.

    Args:
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LinkProbeReceipt
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
) -> Response[Error | LinkProbeReceipt]:
    """Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``)

     Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``). The body is counted and dropped.

    Args:
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LinkProbeReceipt]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
) -> Error | LinkProbeReceipt | None:
    """Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``)

     Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``). The body is counted and dropped.

    Args:
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LinkProbeReceipt
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
