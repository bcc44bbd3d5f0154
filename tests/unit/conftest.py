"""Unit tests are self-contained: a memory they make embeds with a fake, never the real model."""

import pytest

from reflexion_graph.memory import _chroma
from tests.fakes import BagOfWordsEmbeddings


@pytest.fixture(autouse=True)
def _no_embedding_model(monkeypatch):
    monkeypatch.setattr(_chroma, "MiniLMEmbeddings", BagOfWordsEmbeddings)
