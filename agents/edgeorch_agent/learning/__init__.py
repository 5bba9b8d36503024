"""Online learning at the source (issue #22): the split point learned per frame from the delays this agent
observes (``ulinucb``: ANS's μLinUCB), with no profile of the edge."""
