"""Two worker processes change the same lessons at once on one ``chroma run`` server: every
change leaves its event, none is lost, and a retirement both see is kept once."""

import subprocess
import sys
import textwrap

import pytest

from reflexion_graph import make_lesson
from reflexion_graph.memory import ChromaLessonMemory

pytestmark = pytest.mark.integration

ROUNDS = 12
WRITER = textwrap.dedent("""
    import sys
    from reflexion_graph.memory import ChromaLessonMemory

    host, port, name, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    ids = sys.argv[5:]
    memory = ChromaLessonMemory(host=host, port=port, collection_prefix="writers")
    for round_ in range(rounds):
        memory.record_usage(ids[:1], passed=round_ % 2 == 0, scope="team")
        memory.record_usage(ids[1:], passed=False, scope="team")
    memory.approve(ids[:1], scope="team", by=name)  # both approve the same pending lesson
""")


def test_two_writers_lose_no_event(chroma_server, embeddings):
    host, port = chroma_server
    memory = ChromaLessonMemory(
        host=host, port=port, collection_prefix="writers", embeddings=embeddings, review=True
    )
    kept = make_lesson("When reversing text, use slicing.", task="Reverse a string.")
    tired = make_lesson("When adding, print the sum.", task="Add two numbers and return it.")
    memory.save([kept], scope="team")  # pending review
    ChromaLessonMemory(
        host=host, port=port, collection_prefix="writers", embeddings=embeddings
    ).save([tired], scope="team")
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                host,
                str(port),
                name,
                str(ROUNDS),
                kept["id"],
                tired["id"],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ana", "ben")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err

    for lesson in (kept, tired):
        events = memory.history(scope="team", lesson_id=lesson["id"])
        usage = [event for event in events if event["kind"] in ("recalled", "credited")]
        assert len(usage) == 2 * ROUNDS  # none lost
        assert [event["kind"] for event in events].count("stored") == 1
    kinds = [event["kind"] for event in memory.history(scope="team", lesson_id=tired["id"])]
    assert kinds.count("retired") == 1  # both writers saw it retire: kept once
    helped = [event["helped"] for event in memory.history(scope="team", lesson_id=kept["id"])]
    assert sum(helped) == ROUNDS
    approvals = [
        e for e in memory.history(scope="team", lesson_id=kept["id"]) if e["kind"] == "approved"
    ]
    assert len(approvals) == 1 and approvals[0]["by"] in ("ana", "ben")  # one review, kept once
    found = {lesson["id"]: lesson for lesson in memory.lessons(scope="team")}
    assert found[kept["id"]]["recalls"] == 2 * ROUNDS and found[kept["id"]]["state"] == "active"
    assert found[tired["id"]]["state"] == "retired"
