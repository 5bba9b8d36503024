"""edgeorch's wire contract, shared by the control plane and the agent (neither imports the other).

- ``protocol``: the control channel's messages (JSON over a websocket), declared once as msgspec Structs;
- ``frames``: the data plane's binary frames (EOD1), the ACTIVATION header, DONE, the handshake's MAC;
- ``codecs``: how a tensor's bytes travel (raw, zlib, fp16, int8);
- ``profiles``: the device-profile schema and the shipped profiles;
- ``thermal``: the first-order (RC) thermal model every part uses;
- ``links``: link specs and traces (bandwidth, RTT, jitter, loss) as scenarios and ``shape`` messages give
  them;
- ``doc``: docs/protocol.md's message tables, generated from the declarations.

Pure Python plus msgspec and numpy: no Django, no asyncio server, no onnxruntime.
"""

__version__ = "0.1.0"
