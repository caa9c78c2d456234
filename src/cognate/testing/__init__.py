"""Testing applications that use Cognito against a real Cognate server.

The pytest plugin (`cognate.testing.pytest_plugin`, registered as the `cognate` plugin by
the package's `pytest11` entry point) provides the `cognate` fixture; the classes here
work without pytest too:

    with running_server(tmp_dir) as server:
        cognate = CognateHandle(server)
        pool = cognate.create_pool()
"""

from cognate.testing.harness import (
    CognateHandle,
    ControlError,
    Fault,
    ServerClock,
    TestServer,
    running_server,
)

__all__ = [
    "CognateHandle",
    "ControlError",
    "Fault",
    "ServerClock",
    "TestServer",
    "running_server",
]
