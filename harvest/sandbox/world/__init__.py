"""The simulated world behind the sandbox: acquisitions, who sells them, and how they change over time."""
