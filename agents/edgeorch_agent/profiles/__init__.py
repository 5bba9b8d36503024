"""The device profiles' old home: they are ``edgeorch_wire.profiles`` now. This name remains only while
control-plane code still imports it from here; nothing in the agent does."""

from edgeorch_wire.profiles import *  # noqa: F403
