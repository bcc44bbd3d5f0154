import ast
from pathlib import Path

import pytest

import reflexion_graph
from reflexion_graph import LLMActor, create_reflexion_agent
from tests.fakes import ScriptedChatModel

PACKAGE = Path(reflexion_graph.__file__).parent


def graph():
    model = ScriptedChatModel(replies=["x"])
    return create_reflexion_agent(model, evaluator=lambda task, answer: True, actor=LLMActor(model))


def test_input_output_and_context_schemas_build_with_their_descriptions():
    compiled = graph()
    inputs = compiled.get_input_jsonschema()["properties"]
    outputs = compiled.get_output_jsonschema()["properties"]
    context = compiled.get_context_jsonschema()["properties"]
    assert set(inputs) == {"task", "messages"}
    assert {"attempts", "best", "reflections", "stop_reason", "usage"} <= set(outputs)
    assert "The task to solve" in inputs["task"]["description"]
    assert "Every attempt with its verdict" in outputs["attempts"]["description"]
    assert context["retry_context"]["enum"] == [
        "reflections",
        "last_attempt",
        "last_attempt_and_reflection",
        "none",
    ]
    assert "Attempts before giving up" in context["max_attempts"]["description"]


def private_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] in ("langgraph", "langchain", "langchain_core", "langchain_openai") and any(
                part.startswith("_") for part in parts[1:]
            ):
                found.append(name)
    return found


def test_the_package_imports_public_langgraph_and_langchain_apis_only():
    offenders = {
        str(path.relative_to(PACKAGE)): private_imports(path.read_text())
        for path in PACKAGE.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert private_imports("from langgraph._internal._runnable import RunnableCallable") != []


def test_importing_the_studio_module_starts_no_model(monkeypatch):
    import importlib
    import sys

    import reflexion_graph.models as models

    def refuse(*args, **kwargs):
        raise AssertionError("a model was started")

    monkeypatch.setattr(models, "create_chat_model", refuse)
    monkeypatch.delitem(sys.modules, "reflexion_graph.studio", raising=False)
    studio = importlib.import_module("reflexion_graph.studio")  # must not raise
    with pytest.raises(AssertionError, match="a model was started"):
        studio.graph({})  # the first use builds the graph
    monkeypatch.delitem(sys.modules, "reflexion_graph.studio")


def test_the_top_level_exports_are_pinned_and_each_resolves():
    assert reflexion_graph.__all__ == sorted(reflexion_graph.__all__)
    assert set(reflexion_graph.__all__) >= {
        "ReflexionMiddleware",
        "create_reflexion_agent",
        "ReflexionContext",
        "BaseEvaluator",
        "BaseReflectionMemory",
        "HindsightWriter",
        "Lesson",
        "make_lesson",
    }
    for name in reflexion_graph.__all__:
        assert getattr(reflexion_graph, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        reflexion_graph.Nope  # noqa: B018
