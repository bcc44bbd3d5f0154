"""``memory report``: the lessons a person reads, in the terminal and as one page that a real
browser (Debian's headless Chromium) renders with its table and plot."""

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from reflexion_graph import make_lesson
from reflexion_graph.cli import main
from reflexion_graph.memory import ChromaLessonMemory

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PLOT_RED, HEADER_BLUE = (214, 39, 40), (47, 75, 124)


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def reported(tmp_path, monkeypatch):
    """A memory of three lessons learnt over an hour, and the log of 20 runs around them."""
    memory_dir = tmp_path / "memory"
    monkeypatch.setenv("REFLEXION_GRAPH_MEMORY_DIR", str(memory_dir))
    memory = ChromaLessonMemory(path=memory_dir, duplicate_similarity=1.01)
    useful = {
        **make_lesson("Use <b>slicing</b> to reverse.", task="Reverse a string."),
        "created_at": at(5),
        "recalls": 3,
        "helped": 3,
    }
    middling = {
        **make_lesson("Return, do not print.", task="Compute a factorial."),
        "created_at": at(20),
        "recalls": 2,
        "helped": 1,
    }
    useless = {
        **make_lesson("Sort the letters first.", task="Reverse a word."),
        "created_at": at(30),
        "recalls": 4,
        "helped": 0,
    }
    memory.save([useful, middling, useless], scope="global")
    episodes = tmp_path / "episodes.jsonl"
    with episodes.open("w") as log:
        for minute in range(0, 60, 3):  # the first attempts pass more often later on
            passed = minute >= 30 or minute % 9 == 0
            attempt = {"evaluation": {"passed": passed}}
            log.write(json.dumps({"created_at": at(minute), "attempts": [attempt]}) + "\n")
    return episodes


def test_the_terminal_report_puts_the_most_useful_lesson_first(reported, capsys):
    episodes = reported
    assert main(["memory", "report", "--episodes", str(episodes)]) == 0
    out = capsys.readouterr().out
    assert out.index("slicing") < out.index("Return, do not") < out.index("Sort the letters")
    assert "retired" in out  # the useless one's state
    assert "first attempts that passed" in out and "100%" in out


def test_a_bad_episodes_log_is_named(reported, tmp_path, capsys):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"created_at": "x"}\n')
    assert main(["memory", "report", "--episodes", str(broken)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "broken.jsonl:1 is not an episode" in err and "Traceback" not in err


def test_the_html_report_renders_its_table_and_plot_in_headless_chromium(reported, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (scripts/install-chromium.sh could not)")
    episodes = reported
    page = tmp_path / "report.html"
    assert main(["memory", "report", "--html", str(page), "--episodes", str(episodes)]) == 0
    assert "<b>slicing</b>" not in page.read_text()  # lesson text is escaped, not markup
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "memory-report.png"
    screenshot.unlink(missing_ok=True)
    common = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1000",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<tr class=") == 3 and "<polyline" in dom
    subprocess.run(
        [*common, f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    colours = {
        colour: count for count, colour in Image.open(screenshot).convert("RGB").getcolors(1 << 24)
    }
    assert colours.get(PLOT_RED, 0) > 500  # the curve was drawn
    assert colours.get(HEADER_BLUE, 0) > 2000  # and the table's header
