"""The data plane: the agent's own TCP listener for peer-to-peer binary frames, and its links to peers.

The listener (``server``) answers PING with PONG (reachability, round-trip time and bandwidth probes need no
authentication, up to 1 MiB), and accepts activations (tensors between the stages of a split model) and DONE
frames from peers that proved they hold the deployment's secret. ``peers`` opens and pools authenticated
links to other agents' listeners; ``ping`` times PING/PONG exchanges. After the handshake every frame is
encrypted and authenticated (``seal``), unless both agents run with ``--insecure-dataplane``. The frames
themselves (layout, ACTIVATION header, DONE, MAC) are the wire contract's: ``edgeorch_wire.frames``
(docs/protocol.md).
"""

from .peers import AuthError, PeerLink, PeerPool, PeerUnreachable, handshake
from .ping import ping
from .seal import Channel, SealedChannel
from .server import DataplaneServer, Rejected
from .sockets import STREAM_LIMIT, open_stream, tune

__all__ = [
    "STREAM_LIMIT",
    "AuthError",
    "Channel",
    "DataplaneServer",
    "PeerLink",
    "PeerPool",
    "PeerUnreachable",
    "Rejected",
    "SealedChannel",
    "handshake",
    "open_stream",
    "ping",
    "tune",
]
