import os
import shutil

import pytest


def need_tool(tool: str) -> None:
    """A missing tool fails under CI (where .ci/run installs everything) and skips elsewhere."""
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed")
        pytest.skip(f"{tool} is not installed")


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}host{os.sep}" in path:
            item.add_marker(pytest.mark.host)
        if f"{os.sep}qemu{os.sep}" in path:
            item.add_marker(pytest.mark.qemu)
