"""What needs no cluster: the package imports without Ray, and a missing Ray says how to
install it in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from codestar.distributed.cluster import RayNotInstalledError, install_hint, require_ray
from codestar.errors import ConfigError


def test_importing_the_package_does_not_import_ray() -> None:
    script = (
        "import sys, codestar.distributed, codestar.distributed.executor\n"
        "print('ray' in sys.modules)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert answer.strip() == "False"


def test_without_ray_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an absent package looks like
    with pytest.raises(RayNotInstalledError) as caught:
        require_ray()
    assert isinstance(caught.value, ConfigError)
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"Ray is not installed (install it with: {install_hint()})"
    assert install_hint() == "pip install 'codestar[ray]'"


def test_the_executor_reports_a_missing_ray_before_touching_a_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from codestar.distributed import open_ray_executor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RayNotInstalledError), open_ray_executor("auto"):
        pass
