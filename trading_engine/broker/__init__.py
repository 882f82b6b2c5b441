"""The broker port (one async interface) and the simulated broker; the IB adapter lives in the host."""
