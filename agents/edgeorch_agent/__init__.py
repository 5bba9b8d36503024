"""The edgeorch device agent. It never imports Django or the control plane."""

__version__ = "0.1.0"
