"""Token usage: LangChain's UsageMetadata, summed as LangChain sums it, plus the call count."""

from reflexion_graph._usage import TokenUsage, add_usage, empty_usage


def test_usage_adds_tokens_their_details_and_calls():
    left = TokenUsage(input_tokens=10, output_tokens=5, total_tokens=15, model_calls=1,
                      input_token_details={"cache_read": 4})  # fmt: skip
    right = TokenUsage(input_tokens=3, output_tokens=2, total_tokens=5, model_calls=2,
                       input_token_details={"cache_read": 1})  # fmt: skip
    total = add_usage(left, right)
    assert total == {"input_tokens": 13, "output_tokens": 7, "total_tokens": 20,
                     "model_calls": 3, "input_token_details": {"cache_read": 5}}  # fmt: skip


def test_nothing_added_is_zero_and_none_counts_as_nothing():
    assert add_usage(None, None) == empty_usage()
    one = TokenUsage(input_tokens=1, output_tokens=1, total_tokens=2, model_calls=1)
    assert add_usage(one, None) == add_usage(None, one) == one
