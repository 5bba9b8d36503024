"""The codecs' old home: they are ``edgeorch_wire.codecs`` now. This name remains only while control-plane
code still imports it from here; nothing in the agent does."""

from edgeorch_wire.codecs import *  # noqa: F403
from edgeorch_wire.codecs import decode, encode  # noqa: F401
