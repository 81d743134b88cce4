"""Image captioner: shapes, causality of the decoder, greedy decoding, the tokenizer."""

from __future__ import annotations

import pytest
import torch

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.nn.captioner import ImageCaptioner, WordTokenizer


def _model() -> ImageCaptioner:
    torch.manual_seed(0)
    return ImageCaptioner(
        12, image_size=16, patch_size=4, vision_width=16, text_width=24, max_len=10
    ).eval()


def test_shapes_and_image_prefix():
    model = _model()
    images, tokens = torch.rand(3, 3, 16, 16), torch.randint(0, 12, (3, 5))
    assert model(images, tokens).shape == (3, 5, 12)
    assert model.image_prefix(images).shape == (3, 1, 24)  # CLS projected to the text width


def test_future_tokens_do_not_change_earlier_logits():
    model = _model()
    images = torch.rand(2, 3, 16, 16)
    tokens = torch.randint(0, 12, (2, 6))
    changed = tokens.clone()
    changed[:, 4:] = (changed[:, 4:] + 1) % 12
    before, after = model(images, tokens), model(images, changed)
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_logits_depend_on_the_image():
    model = _model()
    tokens = torch.randint(0, 12, (1, 4)).expand(2, 4)
    logits = model(torch.rand(2, 3, 16, 16), tokens)
    assert not torch.allclose(logits[0], logits[1])


def test_greedy_decoding_stops_at_the_end_token():
    model = _model()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(0.0)
        model.head.bias[2] = 5.0  # <eos> always wins
    ids = model.generate(torch.rand(2, 3, 16, 16), bos=1, eos=2)
    assert ids.tolist() == [[1, 2], [1, 2]]
    with torch.no_grad():
        model.head.bias[5] = 10.0  # a word always wins: runs to max_len
    ids = model.generate(torch.rand(2, 3, 16, 16), bos=1, eos=2, max_len=7)
    assert ids.shape == (2, 7) and (ids[:, 1:] == 5).all()


def test_too_long_input_and_small_vocabulary_are_refused():
    with pytest.raises(ConfigError, match="max_len"):
        _model()(torch.rand(1, 3, 16, 16), torch.zeros(1, 11, dtype=torch.long))
    with pytest.raises(ConfigError, match="vocab_size"):
        ImageCaptioner(3)


def test_tokenizer_round_trip_padding_and_unknown_words():
    tokenizer = WordTokenizer(["wind", "from", "west", "at", "7", "m/s"])
    assert len(tokenizer) == 9
    ids = tokenizer.encode("wind from west")
    assert ids[0] == tokenizer.BOS and ids[-1] == tokenizer.EOS
    assert tokenizer.decode(ids) == "wind from west"
    batch = tokenizer.encode_batch(["wind", "wind from west at 7 m/s"])
    assert batch.shape == (2, 8) and (batch[0, 3:] == tokenizer.PAD).all()
    assert tokenizer.decode(batch[1]) == "wind from west at 7 m/s"
    with pytest.raises(UnknownNameError, match="did you mean 'west'"):
        tokenizer.encode("wind from wset")
    with pytest.raises(ConfigError, match="special"):
        WordTokenizer(["two words"])
