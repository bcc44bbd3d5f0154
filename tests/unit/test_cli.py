import http.server
import json
import threading

import pytest

from reflexion_graph.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains_sources_checks_and_model(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for phrase in (
        "--demo",
        "--tasks FILE",
        "--tests",
        "--expected",
        "--base-url",
        "--gguf",
        "task file (JSONL)",
    ):
        assert phrase in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["run"], "give exactly one task source"),
        (["run", "   "], "the task text is empty"),
        (["run", "add two numbers"], "names no evaluator"),
        (["run", "t", "--tests", "assert f() == 1", "--limit", "0"], "--limit must be >= 1"),
        (["run", "t", "--expected", "1", "--max-attempts", "0"], "max_attempts"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_unknown_evaluator_in_a_task_file(capsys, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"task": "t", "evaluator": "vibes"}))
    code, _, err = run_cli(capsys, "run", "--tasks", str(path))
    assert code == 2 and "unknown evaluator 'vibes'" in err


def test_unreachable_endpoint(capsys, free_port):
    url = f"http://127.0.0.1:{free_port}/v1"
    code, _, err = run_cli(capsys, "run", "t", "--expected", "1", "--base-url", url)
    assert code == 2
    assert f"cannot reach the model endpoint '{url}'" in err
    assert "Traceback" not in err


class _GarbageEndpoint(http.server.BaseHTTPRequestHandler):
    """Lists a model like an OpenAI API, then answers chat requests with ``self.server.body``."""

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer(b'{"object": "list", "data": [{"id": "m", "object": "model"}]}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(self.server.body)

    def log_message(self, *args):
        pass


def _store_one_lesson(folder):
    from reflexion_graph import make_lesson
    from reflexion_graph.memory import ChromaLessonMemory

    lesson = make_lesson("an earlier lesson", task="an earlier task")
    ChromaLessonMemory(path=folder).save([lesson], scope="global")


@pytest.mark.parametrize("body", [b"<html>not json</html>", b'{"choices": null}', b"{}"])
def test_an_endpoint_answering_garbage_is_named_before_the_run(capsys, tmp_path, body):
    server = http.server.HTTPServer(("127.0.0.1", 0), _GarbageEndpoint)
    server.body = body
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    _store_one_lesson(tmp_path / "memory")
    try:
        code, _, err = run_cli(
            capsys,
            "run",
            "t",
            "--expected",
            "1",
            "--base-url",
            url,
            "--model",
            "m",
            "--memory-dir",
            str(tmp_path / "memory"),
        )
    finally:
        server.shutdown()
    assert code == 2 and "Traceback" not in err
    message = " ".join(err.split())  # the console wraps long lines
    assert "answered a chat request with something that is not a chat completion" in message
    from reflexion_graph.memory import ChromaLessonMemory

    kept = ChromaLessonMemory(path=tmp_path / "memory")
    assert [lesson["text"] for lesson in kept.lessons()] == ["an earlier lesson"]
