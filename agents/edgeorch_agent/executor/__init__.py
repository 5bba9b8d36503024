"""The executor: split-inference work an agent does for the control plane (docs/protocol.md, "Execution").

It owns this agent's deployments, their stage workers and the data-plane links to peers; the control channel
hands it the execution messages (``handle``) and relayed activations (``on_relayed``), the data-plane listener
hands it activations (``on_activation``) and stream-frame completions (``on_done``), and it answers through
``outbox`` (the control channel's bounded queue: a full queue slows the executor down instead of growing).

A request moves as a ``Work`` from stage queue to stage queue: each stage has a bounded queue and one worker,
whose segment runs in the stage's own thread. After computing, the worker routes the output: to a stage on
this agent (the arrays in-process), to a peer (the data plane, encoded with the hop's codec; relayed through
the control plane if the peer cannot be reached twice, and for ``relay_for`` seconds after that), or, at the
last stage, to the control plane (``result``) or, for a stream frame, to the stream's source agent (a DONE
frame).

One job per module, each a part the ``Executor`` (core) owns, built on the parts below it:

- ``state``: what the parts share (identity, peer links, the deployment, queue and stream-frame tables);
- ``routing``: a computed request onward (here, to a peer, relayed) and its outcome told (result, DONE,
  error);
- ``stages``: the stage queues and workers (arriving activations, compute inline or in the stage's thread);
- ``units``: the device's compute units, each the one scheduler of the turns its stages take on it;
- ``deployments``: deploy, undeploy, and the checks against an emulated device;
- ``sources``: requests this agent starts (``run``), here or at a peer's first stage;
- ``inputs``: where a stream's frames come from (a video, a camera, images, pushed frames, or the input);
- ``streams``: streams this agent sources (frames at a rate, their DONEs, reports, switch and stop);
- ``measurement``: ``profile`` and ``probe``; ``conditions``: the emulated links and background tenant.

Composition, not mixins: each part is a small class holding the settings it alone uses and the parts it
calls, so each module reads on its own and imports only the modules below it. The state that parts on
different levels touch (chiefly the stage queues and the awaited stream frames) is one ``Shared`` object
rather than attributes of a common base, which keeps every such table's readers visible in the code.
"""

from .core import Executor
from .measurement import probe_link as _probe_link
from .state import ControlProbe, Outbox

__all__ = ["ControlProbe", "Executor", "Outbox", "_probe_link"]
