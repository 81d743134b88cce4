"""tinylm: tokenizer, decoding rules as pure functions, training on the toy corpus."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from wxai.assistant.llm.tinylm import (
    BOS,
    EOS,
    IGNORE,
    PAD,
    UNK,
    Decoding,
    TinyLM,
    TinyLMConfig,
    WordTokenizer,
    apply_repetition_penalty,
    apply_temperature,
    corpus_loss,
    greedy,
    load_toy_corpus,
    top_k_filter,
    top_p_filter,
    train_tinylm,
    training_pairs,
)
from wxai.core.device import torch_threads

logit_lists = st.lists(
    st.floats(-8, 8, allow_nan=False, allow_subnormal=False), min_size=1, max_size=12
)


def test_toy_corpus_has_the_hungry_pattern_and_unique_openers():
    sentences = load_toy_corpus()
    assert "I am hungry" in sentences
    openers = [s.split()[0] for s in sentences]
    assert len(openers) == len(set(openers))  # the rest of a sentence follows from its opener


def test_tokenizer_round_trip_specials_and_unknowns():
    tokenizer = WordTokenizer.from_texts(["I am hungry", "you are tired ."])
    assert tokenizer.id_to_token[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    ids = tokenizer.encode("I am hungry", add_bos=True, add_eos=True)
    assert ids[0] == BOS and ids[-1] == EOS and len(ids) == 5
    assert tokenizer.decode(ids) == "I am hungry"
    assert tokenizer.decode(ids, skip_special=False) == "<bos> I am hungry <eos>"
    assert tokenizer.encode("you are cold") == [*tokenizer.encode("you are"), UNK]
    assert tokenizer.split("tired.") == ["tired", "."]


def test_batch_padding_and_attention_mask():
    tokenizer = WordTokenizer.from_texts(["a b c", "d"])
    batch = tokenizer.encode_batch(["a b c", "d"], add_bos=True)
    assert batch.ids.tolist() == [[BOS, 4, 5, 6], [BOS, 7, PAD, PAD]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    left = tokenizer.pad([[4], [4, 5]], side="left")
    assert left.ids.tolist() == [[PAD, 4], [4, 5]]
    assert left.attention_mask.tolist() == [[0, 1], [1, 1]]
    assert tokenizer.pad([[4, 5, 6]], max_len=2).ids.tolist() == [[4, 5]]


def test_training_pairs_shift_by_one_and_ignore_padding():
    tokenizer = WordTokenizer.from_texts(["a b", "c d e"])
    ids, mask, targets = training_pairs(tokenizer, ["a b", "c d e"])
    assert ids[1].tolist() == [BOS, 6, 7, 8]
    assert targets[1].tolist() == [IGNORE, 7, 8, EOS]  # the opening word is not scored
    assert targets[0].tolist() == [IGNORE, 5, EOS, IGNORE]
    assert mask[0].tolist() == [1, 1, 1, 0]


def test_greedy_and_temperature():
    logits = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    assert greedy(logits).tolist() == [1, 0]
    probs_hot = torch.softmax(apply_temperature(logits[0], 10.0), -1)
    probs_cold = torch.softmax(apply_temperature(logits[0], 0.1), -1)
    assert probs_hot.max() < torch.softmax(logits[0], -1).max() < probs_cold.max()
    with pytest.raises(ValueError):
        apply_temperature(logits, 0.0)


def test_top_k_keeps_the_k_largest():
    logits = torch.tensor([1.0, 5.0, 3.0, 4.0])
    kept = torch.isfinite(top_k_filter(logits, 2))
    assert kept.tolist() == [False, True, False, True]
    assert torch.isfinite(top_k_filter(logits, 10)).all()


@settings(max_examples=60, deadline=None)
@given(values=logit_lists, p=st.floats(0.01, 1.0))
def test_top_p_keeps_the_minimal_set_reaching_p(values, p):
    logits = torch.tensor(values, dtype=torch.float64)
    probs = torch.softmax(logits, -1)
    cumulative = probs.sort(descending=True).values.cumsum(0)
    assume(torch.all((cumulative - p).abs() > 1e-9))  # no rounding-borderline cases
    kept = torch.isfinite(top_p_filter(logits, p))
    kept_probs = probs[kept]
    assert kept.any()
    assert kept_probs.sum() >= p - 1e-12  # enough probability ...
    assert kept_probs.sum() - kept_probs.min() < p  # ... and no token could be spared
    if (~kept).any():  # the kept tokens are the most likely ones
        assert kept_probs.min() >= probs[~kept].max()


def test_top_p_by_hand():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log()
    assert torch.isfinite(top_p_filter(logits, 0.8)).tolist() == [True, True, False, False]
    assert torch.isfinite(top_p_filter(logits, 0.81)).tolist() == [True, True, True, False]
    assert torch.isfinite(top_p_filter(logits, 0.4)).tolist() == [True, False, False, False]


@settings(max_examples=60, deadline=None)
@given(
    values=logit_lists,
    picks=st.lists(st.integers(0, 11), max_size=6),
    penalty=st.floats(1.01, 5.0),
)
def test_repetition_penalty_lowers_only_repeated_tokens(values, picks, penalty):
    logits = torch.tensor(values)
    previous = [i for i in picks if i < len(values)]
    out = apply_repetition_penalty(logits, previous, penalty)
    for token in range(len(values)):
        if token in previous:
            assert out[token] < logits[token] or logits[token] == 0
        else:
            assert out[token] == logits[token]


def test_repetition_penalty_rule_and_batch():
    logits = torch.tensor([[2.0, -2.0, 1.0], [2.0, -2.0, 1.0]])
    out = apply_repetition_penalty(logits, torch.tensor([[0, 1], [2, 2]]), 2.0)
    assert out.tolist() == [[1.0, -4.0, 1.0], [2.0, -2.0, 0.5]]
    assert torch.equal(apply_repetition_penalty(logits[0], [], 2.0), logits[0])


def test_decoding_strategies_choose_valid_tokens():
    logits = torch.tensor([0.0, 4.0, 1.0, -1.0])
    generator = torch.Generator().manual_seed(0)
    assert int(Decoding(greedy=True).next_token(logits, torch.tensor([]))) == 1
    # with token 1 penalised hard, greedy moves on to the runner-up
    assert (
        int(Decoding(greedy=True, repetition_penalty=10).next_token(logits, torch.tensor([1]))) == 2
    )
    for decoding in (Decoding(top_k=1), Decoding(top_p=0.5), Decoding(temperature=0.01)):
        assert int(decoding.next_token(logits, torch.tensor([]), generator)) == 1
    draws = {
        int(Decoding(temperature=5.0).next_token(logits, torch.tensor([]), generator))
        for _ in range(200)
    }
    assert draws == {0, 1, 2, 3}


def test_tinylm_learns_that_i_am_is_hungry():
    torch.manual_seed(0)
    sentences = load_toy_corpus()
    model = TinyLM(WordTokenizer.from_texts(sentences), TinyLMConfig())
    with torch_threads(1):
        untrained = corpus_loss(model, sentences)
        history = train_tinylm(model, sentences, epochs=120, lr=3e-3, seed=0)
    assert untrained > 2.0
    assert history[-1] < 0.1 and corpus_loss(model, sentences) < 0.1
    assert model.generate("I am") == "hungry"
    assert model.generate("you are") == "tired"
    assert math.isfinite(history[0])
    tokens, maps = model.attention_maps("we are happy")
    assert tokens == ["<bos>", "we", "are", "happy"]
    assert maps[0].shape == (2, 4, 4)
