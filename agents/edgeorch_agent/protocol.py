"""The control protocol's old home: it is ``edgeorch_wire.protocol`` now. This name remains only while
control-plane code still imports it from here; nothing in the agent does."""

from edgeorch_wire.protocol import *  # noqa: F403
