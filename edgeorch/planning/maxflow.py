"""Maximum flow / minimum s-t cut by Dinic's algorithm (BFS level graph + blocking flow), float capacities."""

from __future__ import annotations

from collections import deque


class FlowGraph:
    """A directed graph with capacities; ``min_cut`` returns the source side of a minimum s-t cut."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.head: list[list[int]] = [[] for _ in range(size)]
        self.to: list[int] = []
        self.cap: list[float] = []

    def add_edge(self, u: int, v: int, capacity: float) -> None:
        """Edge u -> v with its residual twin v -> u (index e ^ 1)."""
        self.head[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(capacity)
        self.head[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(0.0)

    def _levels(self, s: int, eps: float) -> list[int]:
        level = [-1] * self.size
        level[s] = 0
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for e in self.head[u]:
                v = self.to[e]
                if level[v] < 0 and self.cap[e] > eps:
                    level[v] = level[u] + 1
                    queue.append(v)
        return level

    def _push(self, u: int, t: int, limit: float, level: list[int], it: list[int], eps: float) -> float:
        """Send up to ``limit`` from u to t along the level graph (depth-first)."""
        if u == t:
            return limit
        while it[u] < len(self.head[u]):
            e = self.head[u][it[u]]
            v = self.to[e]
            if self.cap[e] > eps and level[v] == level[u] + 1:
                pushed = self._push(v, t, min(limit, self.cap[e]), level, it, eps)
                if pushed > eps:
                    self.cap[e] -= pushed
                    self.cap[e ^ 1] += pushed
                    return pushed
            it[u] += 1
        return 0.0

    def max_flow(self, s: int, t: int) -> float:
        """Dinic: repeat BFS levels and blocking flows until t is unreachable."""
        eps = 1e-12 * max([c for c in self.cap if c != float("inf")] + [1e-300])
        flow = 0.0
        while True:
            level = self._levels(s, eps)
            if level[t] < 0:
                return flow
            it = [0] * self.size
            while (pushed := self._push(s, t, float("inf"), level, it, eps)) > eps:
                flow += pushed

    def min_cut(self, s: int, t: int) -> set[int]:
        """Nodes reachable from s in the residual graph after a maximum flow."""
        self.max_flow(s, t)
        eps = 1e-12 * max([c for c in self.cap if c != float("inf")] + [1e-300])
        return {v for v, lv in enumerate(self._levels(s, eps)) if lv >= 0}
