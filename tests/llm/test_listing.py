"""Asking a server which models it serves, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest
from faultserver import FaultServer

from codestar.errors import (
    AuthenticationError,
    BackendError,
    BackendUnreachableError,
    ConfigError,
)
from codestar.llm.listing import check_base_url, list_models, only_model


def closed_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def test_list_models_returns_the_served_ids() -> None:
    with FaultServer(models=["b-model", "a-model"]) as server:
        assert list_models(server.url + "/") == ["a-model", "b-model"]
        assert server.model_listings == 1 and server.count == 0


def test_only_model_picks_the_single_model_or_says_to_pass_model() -> None:
    with FaultServer(models=["solo"]) as server:
        assert only_model(server.url) == "solo"
    with FaultServer(models=["a", "b"]) as server, pytest.raises(ConfigError) as several:
        only_model(server.url)
    assert "serves 2 models (a, b)" in str(several.value) and "--model a" in str(several.value)
    with FaultServer(lists_models=False) as server, pytest.raises(ConfigError) as unlisted:
        only_model(server.url)
    assert "HTTP 404" in str(unlisted.value) and "pass --model" in str(unlisted.value)


def test_listing_failures_are_typed() -> None:
    url = closed_url()
    with pytest.raises(BackendUnreachableError, match="is the server running"):
        list_models(url)
    with pytest.raises(BackendUnreachableError):
        only_model(url)  # unreachable stays unreachable, not "pass --model"
    with FaultServer(lists_models=False) as server, pytest.raises(BackendError, match="404"):
        list_models(server.url)


def test_the_key_is_sent_and_a_rejected_one_is_an_authentication_error() -> None:
    with FaultServer(models=["m"], listing_key="sk-right") as server:
        assert list_models(server.url, api_key="sk-right") == ["m"]
        for key in ("sk-wrong", None):
            with pytest.raises(AuthenticationError, match="rejected the API key"):
                list_models(server.url, api_key=key)
        with pytest.raises(AuthenticationError):
            only_model(server.url, api_key="sk-wrong")  # not "pass --model"


@pytest.mark.parametrize("url", ["127.0.0.1:8000/v1", "ftp://host/v1", "http://", "", "v1"])
def test_a_base_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        check_base_url(url)
