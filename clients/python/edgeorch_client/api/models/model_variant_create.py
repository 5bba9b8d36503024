from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.ml_model_detail import MLModelDetail
from ...models.variant_request import VariantRequest
from ...types import Response


def _get_kwargs(
    id: int,
    *,
    body: VariantRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/models/{id}/variants/".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | MLModelDetail | None:
    if response.status_code == 201:
        response_201 = MLModelDetail.from_dict(response.json())

        return response_201

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

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | MLModelDetail]:
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
    body: VariantRequest,
) -> Response[Error | MLModelDetail]:
    """GET

     GET: the model's variants (``variant_of`` this model). POST ``{"kind": "int8"}``: make one by
    quantising it with onnxruntime (docs/api.md, "Variants"), its accuracy measured where the model has
    data; 400 saying why one cannot be made.

    Args:
        id (int):
        body (VariantRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MLModelDetail]
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
    id: int,
    *,
    client: AuthenticatedClient,
    body: VariantRequest,
) -> Error | MLModelDetail | None:
    """GET

     GET: the model's variants (``variant_of`` this model). POST ``{"kind": "int8"}``: make one by
    quantising it with onnxruntime (docs/api.md, "Variants"), its accuracy measured where the model has
    data; 400 saying why one cannot be made.

    Args:
        id (int):
        body (VariantRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MLModelDetail
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    body: VariantRequest,
) -> Response[Error | MLModelDetail]:
    """GET

     GET: the model's variants (``variant_of`` this model). POST ``{"kind": "int8"}``: make one by
    quantising it with onnxruntime (docs/api.md, "Variants"), its accuracy measured where the model has
    data; 400 saying why one cannot be made.

    Args:
        id (int):
        body (VariantRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MLModelDetail]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
    body: VariantRequest,
) -> Error | MLModelDetail | None:
    """GET

     GET: the model's variants (``variant_of`` this model). POST ``{"kind": "int8"}``: make one by
    quantising it with onnxruntime (docs/api.md, "Variants"), its accuracy measured where the model has
    data; 400 saying why one cannot be made.

    Args:
        id (int):
        body (VariantRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MLModelDetail
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
