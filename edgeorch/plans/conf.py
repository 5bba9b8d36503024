"""Settings of the plans app, read from the environment here rather than in settings.py.

``EDGEORCH_DEFAULT_GMACS``: the effective rate (GMAC/s) assumed for a device that has never been profiled at
all, when no regression can predict it either. The link defaults stand in for links never measured.
"""

from edgeorch.env import envfloat

DEFAULT_GMACS = envfloat("EDGEORCH_DEFAULT_GMACS", 5.0, minimum=1e-6)
DEFAULT_BANDWIDTH_BPS = 100e6  # 100 Mbit/s: a fair Wi-Fi link
DEFAULT_RTT_S = 0.005
