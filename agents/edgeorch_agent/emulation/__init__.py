"""Emulation: make the dynamic factors of edge inference reproducible on one machine.

- ``device``: an agent behaves as a device profile (``edgeorch_wire.profiles``): compute stretched by the
  profile's speed and its current thermal throttle (``edgeorch_wire.thermal``, the first-order RC model
  that heats a busy device and throttles a hot one), units occupied one computation at a time;
- ``tenants``: background load that really occupies the device, so stages queue;
- ``links``: bandwidth, RTT, jitter and loss per data-plane link, constant or following a trace;
- ``netns``: the same at kernel level (Linux network namespaces, veth pairs, ``tc``), for tests as root.

docs/protocol.md, section "Emulation", is the overview of what the control plane sees.
"""
