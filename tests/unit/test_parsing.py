from reflexion_graph._parsing import extract_code, extract_final_answer, message_text


def test_extract_code_takes_the_longest_python_block():
    text = "```python\nx = 1\n```\ntext\n```python\ndef f():\n    return 2\n```"
    assert extract_code(text) == "def f():\n    return 2"


def test_extract_code_handles_an_unclosed_fence_and_plain_code():
    assert extract_code("```python\ndef f():\n    pass") == "def f():\n    pass"
    assert extract_code("def f(): pass") == "def f(): pass"


def test_extract_code_skips_other_languages():
    assert extract_code("```bash\nls\n```\n```py\nprint(1)\n```") == "print(1)"


def test_final_answer_prefers_the_last_marker():
    assert extract_final_answer("Answer: 1\nno wait\nAnswer: 2") == "2"
    assert extract_final_answer("a\n\nlast line  \n") == "last line"
    assert extract_final_answer("") == ""


def test_stacked_answer_markers_are_all_taken_off():
    assert extract_final_answer("The answer is: Answer: Paris") == "Paris"
    assert extract_final_answer("Answer: answer = 42") == "42"
    assert extract_final_answer("Answer: the answer key") == "the answer key"


def test_message_text_flattens_content_blocks():
    assert message_text([{"type": "text", "text": "a"}, "b", {"type": "image"}]) == "ab"
    assert message_text(None) == "None"
