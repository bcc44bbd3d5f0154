"""Every actor takes one AttemptRequest; actors written for the 0.x ``act`` keep working."""

import asyncio
import warnings

import pytest

from reflexion_graph import (
    AttemptRequest,
    BaseActor,
    LLMReflector,
    ReflexionContext,
    create_reflexion_agent,
    make_lesson,
    prompts,
)
from reflexion_graph.evaluators import ExactMatchEvaluator
from tests.fakes import RecordingMemory, ScriptedChatModel

RULE = "When a total is asked for, give it in cents."


class Recording(BaseActor):
    """Answers from a script and keeps every request it was given."""

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []

    def attempt(self, request):
        self.requests.append(request)
        return self.answers[len(self.requests) - 1]


def run(actor, reflector_replies, context=None, memory=None):
    graph = create_reflexion_agent(
        evaluator=lambda task, answer: answer == "right",
        actor=actor,
        reflector=LLMReflector(ScriptedChatModel(replies=reflector_replies)),
        memory=memory,
    )
    return graph.invoke({"task": "t"}, context=context or ReflexionContext())


def test_each_attempt_gets_its_number_the_recalled_lessons_and_the_retry_context():
    recalled = make_lesson(RULE, task="an earlier task", evidence="total([1.5]) gave 1.5")
    actor = Recording(["wrong", "wrong", "right", "right"])  # the last one: the replay
    run(actor, ["lesson 1", "lesson 2", RULE], memory=RecordingMemory([recalled]))

    first, second, third, replay = actor.requests
    assert [r.number for r in (first, second, third)] == [1, 2, 3]
    assert first.lessons == [recalled] and first.last_attempt is None and first.reflections == []
    assert second.last_attempt["answer"] == "wrong"
    assert [r["text"] for r in third.reflections] == ["lesson 1", "lesson 2"]
    assert (replay.number, list(replay.reflections), replay.last_attempt) == (1, [], None)
    [shown] = replay.lessons  # the rule alone: not the check it was learnt from
    assert shown["text"] == RULE and shown["evidence"] == ""


def test_lessons_only_shows_no_failed_attempt():
    actor = Recording(["wrong", "right"])
    run(actor, ["lesson 1"], ReflexionContext(retry_context="reflections"))
    retry = actor.requests[1]
    assert retry.last_attempt is None and [r["text"] for r in retry.reflections] == ["lesson 1"]


def test_override_makes_a_changed_copy():
    request = AttemptRequest(task="t")
    changed = request.override(number=2, task="u")
    assert (changed.task, changed.number) == ("u", 2)
    assert (request.task, request.number) == ("t", 1)
    with pytest.raises(TypeError):
        request.override(no_such_field=1)


def test_an_actor_written_for_the_old_act_signature_warns_once_and_still_runs():
    with pytest.warns(DeprecationWarning, match="override attempt"):

        class OldStyle(BaseActor):
            def __init__(self):
                self.seen = []

            def act(self, task, *, reflections, lessons, last_attempt=None):
                self.seen.append((task, last_attempt is None))
                return "right" if last_attempt else "wrong"

    actor = OldStyle()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # running it warns no more
        result = run(actor, ["lesson"])
        asyncio.run(actor.aattempt(AttemptRequest(task="u")))
    assert result["stop_reason"] == "passed"
    assert actor.seen == [("t", True), ("t", False), ("u", True)]


def test_calling_the_old_act_on_a_new_actor_warns_and_answers():
    actor = Recording(["right", "right"])
    with pytest.warns(DeprecationWarning, match=r"call attempt\(AttemptRequest"):
        assert actor.act("t", reflections=[], lessons=[]) == "right"
    with pytest.warns(DeprecationWarning, match=r"call aattempt\(AttemptRequest"):
        assert asyncio.run(actor.aact("t", reflections=[], lessons=[])) == "right"
    assert [r.task for r in actor.requests] == ["t", "t"]


def test_an_actor_that_implements_nothing_cannot_be_made():
    class Empty(BaseActor):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Empty()


@pytest.mark.parametrize(
    ("script", "closing"),
    [  # no answer line: its form failed, and that finding is the lesson (no model call)
        (["It is Paris.", "Answer: Paris"], prompts.ACTOR_RETRY_FORM_CLOSING),
        # the line is there, its value is wrong: the reflector writes a lesson
        (["Answer: Lyon", "a lesson", "Answer: Paris"], prompts.ACTOR_RETRY_CLOSING),
    ],
)
def test_a_retry_after_an_answer_in_the_wrong_form_asks_for_the_answer_line_alone(script, closing):
    model = ScriptedChatModel(replies=script)
    graph = create_reflexion_agent(model, evaluator=ExactMatchEvaluator("Paris"))
    result = graph.invoke({"task": "The capital of France?"}, context=ReflexionContext())
    assert [a["evaluation"]["passed"] for a in result["attempts"]] == [False, True]
    assert model.prompts[-1][-1].content.endswith(closing)
