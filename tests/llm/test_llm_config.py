"""The LLM tables of codestar.toml: parsing and validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from codestar.errors import ConfigError
from codestar.llm.config import LLMConfig, load_config

FULL = """
[model]
name = "Qwen/Qwen2.5-Coder-7B-Instruct"
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "MY_KEY"
max_concurrency = 4
timeout_s = 120

[roles]
debugger = "Qwen/Qwen2.5-Coder-32B-Instruct"
input_writer = "local:1.5b"
judge = { name = "gpt-4o-mini", base_url = "https://api.openai.com/v1" }

[prices."gpt-4o-mini"]
prompt = 0.15
completion = 0.6

[budget]
max_tokens = 1_000_000
max_cost = 2.5

[solve]
samples = 16
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codestar.toml"
    path.write_text(text)
    return path


def test_full_config_maps_onto_the_llm_objects(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    roles = config.roles
    assert roles.generator.name == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert roles.generator.api_key_env == "MY_KEY"
    debugger = roles.spec_for("debugger")
    assert (debugger.base_url, debugger.api_key_env) == ("http://127.0.0.1:8000/v1", "MY_KEY")
    assert roles.spec_for("input_writer").local
    judge = roles.spec_for("judge")
    assert (judge.name, judge.base_url, judge.api_key_env) == (
        "gpt-4o-mini", "https://api.openai.com/v1", None,
    )  # fmt: skip
    assert (config.max_concurrency, config.timeout_s, config.max_retries) == (4, 120.0, None)
    price = config.prices.price("gpt-4o-mini")
    assert price is not None and price.completion_per_million == 0.6
    assert config.budget.max_tokens == 1_000_000 and config.budget.max_calls is None


def test_empty_config_means_the_embedded_model(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config == LLMConfig()
    assert config.roles.generator.local


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[model]\nnmae = "x"', "unknown key 'nmae' in [model]; valid keys: name, base_url"),
        ('[roles]\ncritic = "x"', "valid keys: generator, debugger, input_writer, judge"),
        ('[roles]\njudge = { name = "x", port = 1 }', "unknown key 'port' in [roles] judge"),
        ("[budget]\nmax_tokens = -1", "must be a whole number >= 0"),
        ("[budget]\nmax_money = 3", "valid keys: max_tokens, max_cost, max_calls"),
        ("[prices.m]\nprompt = 1", "needs completion"),
        ('[prices.m]\nprompt = "cheap"\ncompletion = 1', "must be a number"),
        ('[model]\nname = "local"\nbase_url = "http://x"', "takes no base URL"),
        ("[model]\nmax_retries = 1.5", "whole number"),
        ("[model\nname=", "not valid TOML"),
    ],
)
def test_mistakes_are_named_with_the_valid_choices(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert words in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml")
