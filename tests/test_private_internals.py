"""The speed hacks lean on private internals of channels-redis, asgiref and Django's ORM: these tests fail
loudly, naming what moved, when an upgrade changes what they rely on.

- ``edgeorch/channel_layer.py`` overrides ``send`` and ``receive_single`` of channels-redis's layer and uses
  its helpers (``docs/benchmarks.md``, "Channel layer").
- ``edgeorch/layer.py`` reads asgiref's ``SyncToAsync.threadlocal`` to find the server's loop.
- ``edgeorch/jobs/models.update_without_flush`` compiles an UPDATE with Django's ``UpdateQuery`` and sends it
  with ``SET LOCAL synchronous_commit`` in one query string, which needs client-side parameter binding.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import threading
from importlib import metadata
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels_redis.core import RedisChannelLayer
from django.db import connection

from edgeorch import layer

ROOT = Path(__file__).resolve().parent.parent


def pinned(name: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    match = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.M | re.I)
    assert match, f"{name} is not pinned in requirements.txt"
    return match.group(1)


@pytest.mark.parametrize("dist", ["channels-redis", "channels", "asgiref", "redis", "Django"])
def test_the_libraries_whose_internals_we_use_are_the_pinned_versions(dist):
    assert metadata.version(dist) == pinned(dist), (
        f"{dist} {metadata.version(dist)} is installed, {pinned(dist)} is pinned: re-check the internals "
        "this file lists before moving the pin"
    )


def test_channels_redis_still_has_what_our_layer_overrides_and_calls():
    parent = RedisChannelLayer
    for name in (
        "send",
        "receive",
        "receive_single",
        "require_valid_channel_name",
        "non_local_name",
        "consistent_hash",
        "connection",
        "serialize",
        "deserialize",
        "get_capacity",
    ):
        assert callable(getattr(parent, name, None)), f"channels_redis RedisChannelLayer.{name} is gone"
    layer_ = parent(hosts=["redis://127.0.0.1:6379/1"], prefix="guard")
    for name in ("prefix", "expiry", "brpop_timeout", "_send_index_generator", "_receive_index_generator"):
        assert hasattr(layer_, name), f"channels_redis RedisChannelLayer().{name} is gone"
    # receive() must still go through receive_single (our one-BZPOPMIN override) for every message.
    assert "self.receive_single(" in inspect.getsource(parent.receive)
    assert inspect.signature(parent.receive_single).parameters.keys() == {"self", "channel"}


def test_asgiref_still_records_the_servers_loop_in_its_thread_local():
    async def from_a_database_thread():
        loop = asyncio.get_running_loop()
        seen = await sync_to_async(lambda: (layer._server_loop(), SyncToAsync.threadlocal.__dict__.copy()))()
        return loop, seen

    loop, (found, local) = asyncio.run(from_a_database_thread())
    assert local.get("main_event_loop") is loop, f"SyncToAsync.threadlocal has {sorted(local)}"
    assert local.get("main_event_loop_pid") == os.getpid()
    assert found is loop
    outside: list = []  # a thread no server ever ran in
    thread = threading.Thread(target=lambda: outside.append(layer._server_loop()))
    thread.start()
    thread.join()
    assert outside == [None]


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no transaction around the call
def test_update_without_flush_relies_on_client_side_binding_and_updates_one_round_trip(
    django_assert_num_queries,
):
    from edgeorch.jobs.models import Deployment, update_without_flush

    if connection.vendor != "postgresql":
        pytest.skip("the one-string form is PostgreSQL's")
    # Server-side binding would send the two statements as one prepared statement, which PostgreSQL refuses.
    assert not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    assert Deployment.objects.count() == 0
    with django_assert_num_queries(1):
        assert update_without_flush(Deployment.objects.filter(key="none"), error="x") == 0
    with connection.cursor() as cursor:  # SET LOCAL ended with its statement's implicit transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
