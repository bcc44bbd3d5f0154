import ast
import importlib
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
        "auto",
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
        "BaseLessonMemory",
        "HindsightWriter",
        "Lesson",
        "make_lesson",
    }
    for name in reflexion_graph.__all__:
        assert getattr(reflexion_graph, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        reflexion_graph.Nope  # noqa: B018


EXPORTS = {
    "reflexion_graph.bench": [
        "DEFAULT_STRATEGIES",
        "STRATEGIES",
        "BenchRunner",
        "BenchTask",
        "countdown",
        "family_tasks",
        "humaneval",
        "load_dataset",
        "load_families",
        "paired_rows",
        "plot_success",
        "results_markdown",
        "summary_rows",
        "transfer_markdown",
    ],
    "reflexion_graph.cli": [
        "main",
    ],
    "reflexion_graph.evaluators": [
        "DEFAULT_ASPECTS",
        "AllOf",
        "BaseEvaluator",
        "CallableEvaluator",
        "CodeTestEvaluator",
        "CountdownEvaluator",
        "EvaluatorFunction",
        "ExactMatchEvaluator",
        "FunctionCallEvaluator",
        "HumanEvaluator",
        "JSONSchemaEvaluator",
        "LLMJudge",
        "RegexEvaluator",
        "RubricJudge",
        "SandboxLimits",
        "SelfTestEvaluator",
        "Weighted",
        "as_evaluator",
        "probe_isolation",
        "to_evaluation",
    ],
    "reflexion_graph.actors": [
        "AttemptRequest",
        "AttemptResult",
        "BaseActor",
        "GraphActor",
        "LLMActor",
        "ToolTimeout",
        "create_tool_actor",
    ],
    "reflexion_graph.graph": [
        "ReflexionContext",
        "ReflexionInput",
        "ReflexionOutput",
        "ReflexionState",
        "RememberPolicy",
        "RetryContext",
        "StopReason",
        "create_reflexion_agent",
    ],
    "reflexion_graph.reflectors": [
        "BaseLessonWriter",
        "BaseReflector",
        "HindsightWriter",
        "LLMReflector",
    ],
    "reflexion_graph.memory": [
        "DEFAULT_MEMORY_DIR",
        "MEMORY_DIR_ENV",
        "BaseLessonMemory",
        "ChromaLessonMemory",
        "LessonEvent",
        "MiniLMEmbeddings",
        "StoreLessonMemory",
    ],
    "reflexion_graph.stores": ["ChromaStore"],
    "reflexion_graph.evaluators.code": ["CodeTestEvaluator", "SelfTestEvaluator"],
    "reflexion_graph.middleware": [
        "JudgeAndRetryMiddleware",
        "RecallLessonsMiddleware",
        "ReflexionAgentState",
        "ReflexionMiddleware",
        "ReflexionSummary",
    ],
    "reflexion_graph.loop": [
        "Hindsight",
        "ReflexionContext",
        "RememberPolicy",
        "RetryContext",
        "StopReason",
    ],
    "reflexion_graph.findings": [
        "PROPOSERS",
        "Change",
        "ChangeKind",
        "ChangeVerifier",
        "CheckCall",
        "Evidence",
        "FailedCall",
        "FailedTest",
        "Finding",
        "ModelProposer",
        "PassesAll",
        "Proposer",
        "changed_code",
        "check_call",
        "find",
        "statement",
    ],
    "reflexion_graph.models": [
        "CATALOGUE",
        "DEFAULT_MODEL",
        "CatalogueModel",
        "EmbeddedServer",
        "ModelSettings",
        "cache_dir",
        "catalogue_model",
        "create_chat_model",
        "model_id",
        "model_path",
        "start_embedded_server",
    ],
    "reflexion_graph.sandbox": [
        "Child",
        "Isolation",
        "Sandbox",
        "SandboxLimits",
        "SandboxedProcess",
        "WarmStartFailed",
        "child_script",
        "default_sandbox",
        "probe_isolation",
    ],
}
"""Every subpackage's public names (the rule: ``__all__`` holds what a user of that area
needs; plumbing stays in its private modules)."""


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_each_subpackage_exports_exactly_its_pinned_names(package):
    module = importlib.import_module(package)
    assert module.__all__ == EXPORTS[package]
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    shared = set(module.__all__) & set(reflexion_graph.__all__)
    for name in shared:  # the top level re-exports the very same object
        assert getattr(reflexion_graph, name) is getattr(module, name), name


def test_the_sandbox_package_imports_nothing_else_of_the_project():
    for path in (PACKAGE / "sandbox").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                inside = name == "reflexion_graph.sandbox" or name.startswith(
                    "reflexion_graph.sandbox."
                )
                assert inside or not name.startswith("reflexion_graph"), f"{path.name}: {name}"


def test_the_memorys_earlier_names_still_import_with_a_warning():
    import reflexion_graph.memory as memory
    from reflexion_graph.stores import ChromaStore

    for old, new in (
        ("BaseReflectionMemory", memory.BaseLessonMemory),
        ("ChromaReflectionMemory", memory.ChromaLessonMemory),
        ("StoreReflectionMemory", memory.StoreLessonMemory),
        ("ChromaStore", ChromaStore),
    ):
        with pytest.warns(DeprecationWarning, match=old):
            assert getattr(memory, old) is new
    with pytest.warns(DeprecationWarning, match="now BaseLessonMemory"):
        assert reflexion_graph.BaseReflectionMemory is memory.BaseLessonMemory
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        memory.nope  # noqa: B018


def test_server_plumbing_moved_out_of_models_still_imports_with_a_warning():
    from reflexion_graph import models
    from reflexion_graph.models._server import ensure_server

    with pytest.warns(DeprecationWarning, match="ensure_server is internal"):
        assert models.ensure_server is ensure_server
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        models.nope  # noqa: B018


def test_the_benchs_renamed_report_functions_still_import_with_a_warning():
    from reflexion_graph import bench

    with pytest.warns(DeprecationWarning, match="use results_markdown"):
        assert bench.markdown is bench.results_markdown


def test_the_loop_imports_neither_adapter_and_the_middleware_not_the_graph():
    def imported(path):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                yield node.module
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)

    adapters = ("reflexion_graph.graph", "reflexion_graph.middleware")
    for path in (PACKAGE / "loop").glob("*.py"):
        assert not [m for m in imported(path) if m.startswith(adapters)], path
    for path in (PACKAGE / "middleware").glob("*.py"):
        assert not [m for m in imported(path) if m.startswith(adapters[0])], path
