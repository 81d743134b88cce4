"""Wind images captioned in words: the caption grammar, generated (image, caption) pairs,
teacher-forced training of :class:`~wxai.nn.captioner.ImageCaptioner`, and scoring.

Grammar (one sentence, six words)::

    wind from <sector> at <speed> m/s

``<sector>`` is one of the 8 compass points of :data:`DIRECTION_NAMES` (45-degree sectors
centred on north, north-east, ...; the direction the wind comes *from*) and ``<speed>``
the domain-mean speed rounded to an integer in m s-1 (0 .. 40). The known answers come
from :class:`~wxai.products.descriptors.fields.WindCase`; images from
:func:`~wxai.products.descriptors.images.render_wind_image`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from wxai.atmos.wind import compass_index
from wxai.core.errors import ConfigError, DataFormatError
from wxai.nn.captioner import ImageCaptioner, WordTokenizer
from wxai.products.descriptors.fields import SECTORS, WindCase, synthetic_wind_field
from wxai.products.descriptors.images import render_wind_image
from wxai.train.loop import minimize_over_batches

__all__ = [
    "DIRECTION_NAMES",
    "CaptionData",
    "CaptionScores",
    "ParsedCaption",
    "caption_tokenizer",
    "direction_sector",
    "evaluate_captions",
    "generate_captions",
    "images_to_tensor",
    "make_caption_data",
    "most_common_caption",
    "parse_caption",
    "random_wind_case",
    "rates_by_speed_bin",
    "train_captioner",
    "wind_caption",
]

#: The 8 compass points a caption names, clockwise from north (sector i centred on 45 i deg).
DIRECTION_NAMES = (
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
)
#: Largest speed word [m s-1] of the vocabulary.
MAX_CAPTION_SPEED = 40
_CAPTION = re.compile(r"^wind from (?P<sector>[a-z-]+) at (?P<speed>\d+) m/s$")


def direction_sector(direction: float) -> str:
    """Compass point of ``direction`` [degrees from]: the 45-degree sector centred on it."""
    if not np.isfinite(direction):
        raise ConfigError(f"direction must be a finite number of degrees, got {direction}")
    return DIRECTION_NAMES[compass_index(direction)]


def wind_caption(case: WindCase) -> str:
    """The caption of ``case``, e.g. ``"wind from south-west at 12 m/s"``."""
    speed = int(np.round(case.speed))
    if not 0 <= speed <= MAX_CAPTION_SPEED:
        raise ConfigError(f"speed {case.speed} m/s is outside the caption range 0 .. 40 m/s")
    return f"wind from {direction_sector(case.direction)} at {speed} m/s"


@dataclass(frozen=True)
class ParsedCaption:
    """What a caption says: a compass point and an integer speed [m s-1]."""

    sector: str
    speed: int


def parse_caption(text: str) -> ParsedCaption:
    """Read a caption of the grammar back; :class:`DataFormatError` if it is not one."""
    match = _CAPTION.match(text.strip())
    if match is None or match["sector"] not in DIRECTION_NAMES:
        raise DataFormatError(
            f"{text!r} is not a caption 'wind from <sector> at <speed> m/s' with a sector "
            f"in {DIRECTION_NAMES}"
        )
    return ParsedCaption(match["sector"], int(match["speed"]))


def caption_tokenizer() -> WordTokenizer:
    """Word-level tokenizer over every word the grammar can produce (52 words + 3 specials)."""
    numbers = [str(speed) for speed in range(MAX_CAPTION_SPEED + 1)]
    return WordTokenizer(["wind", "from", *DIRECTION_NAMES, "at", *numbers, "m/s"])


def random_wind_case(
    rng: np.random.Generator, speed_range: tuple[float, float] = (2.0, 25.0)
) -> WindCase:
    """A case with uniform direction [0, 360), uniform speed in ``speed_range`` [m s-1],
    spread 0-25 degrees, gustiness 0-0.3 and, half of the time, a stronger half (x 1-1.5)."""
    low, high = speed_range
    if not 0 <= low < high <= MAX_CAPTION_SPEED - 0.5:
        raise ConfigError(f"speed_range must satisfy 0 <= low < high <= 39.5, got {speed_range}")
    sector = str(rng.choice(SECTORS)) if rng.random() < 0.5 else None
    return WindCase(
        direction=float(rng.uniform(0.0, 360.0)),
        speed=float(rng.uniform(low, high)),
        direction_spread=float(rng.uniform(0.0, 25.0)),
        gustiness=float(rng.uniform(0.0, 0.3)),
        sector=sector,
        sector_boost=float(rng.uniform(1.0, 1.5)) if sector else 1.0,
    )


@dataclass
class CaptionData:
    """Generated pairs: images ``(n, H, W, 3)`` uint8, their captions and the cases behind."""

    images: np.ndarray
    captions: list[str]
    cases: list[WindCase]


def make_caption_data(
    n: int,
    rng: np.random.Generator,
    *,
    image_size: int = 32,
    field_shape: tuple[int, int] = (32, 32),
    speed_range: tuple[float, float] = (2.0, 25.0),
) -> CaptionData:
    """``n`` random wind fields rendered to ``image_size``-pixel images, with their captions."""
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    cases = [random_wind_case(rng, speed_range) for _ in range(n)]
    images = np.stack(
        [
            render_wind_image(synthetic_wind_field(case, rng, shape=field_shape), image_size)
            for case in cases
        ]
    )
    return CaptionData(images, [wind_caption(case) for case in cases], cases)


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images ``(n, H, W, 3)`` -> float tensor ``(n, 3, H, W)`` in [-1, 1].

    Centring matters: a layer norm after the linear patch projection removes a pure
    rescaling of the pixels, and brightness (speed) is one in [0, 1].
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise DataFormatError(
            f"expected uint8 images (n, H, W, 3), got {images.shape} {images.dtype}"
        )
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def train_captioner(
    data: CaptionData,
    tokenizer: WordTokenizer,
    *,
    patch_size: int = 8,
    width: int = 64,
    heads: int = 4,
    vision_layers: int = 2,
    text_layers: int = 2,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[ImageCaptioner, list[float]]:
    """Train a captioner from scratch with teacher forcing (Adam, cosine decay).

    The loss is the mean cross-entropy of every next word given the image and the words
    before it (``<pad>`` ignored). Returns the model (evaluation mode, CPU) and the mean
    loss per epoch [nats per token].
    """
    torch.manual_seed(seed)
    images = images_to_tensor(data.images)
    tokens = tokenizer.encode_batch(data.captions)
    model = ImageCaptioner(
        len(tokenizer),
        image_size=images.shape[-1],
        patch_size=patch_size,
        vision_width=width,
        vision_heads=heads,
        vision_layers=vision_layers,
        text_width=width,
        text_heads=heads,
        text_layers=text_layers,
        max_len=tokens.shape[1] + 2,
    )
    cross_entropy = torch.nn.CrossEntropyLoss(ignore_index=tokenizer.PAD)

    def batch_loss(batch: tuple[torch.Tensor, ...], _generator: torch.Generator) -> torch.Tensor:
        batch_images, batch_tokens = batch
        logits = model(batch_images, batch_tokens[:, :-1])
        return cross_entropy(logits.reshape(-1, logits.shape[-1]), batch_tokens[:, 1:].reshape(-1))

    losses = minimize_over_batches(
        model,
        (images, tokens),
        batch_loss,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
        label="cross-entropy",
    )
    return model, losses


def generate_captions(
    model: ImageCaptioner, tokenizer: WordTokenizer, images: np.ndarray, batch_size: int = 256
) -> list[str]:
    """Greedy captions of uint8 images ``(n, H, W, 3)``."""
    model.eval()
    pixels = images_to_tensor(images)
    captions: list[str] = []
    for start in range(0, len(pixels), batch_size):
        ids = model.generate(
            pixels[start : start + batch_size],
            bos=tokenizer.BOS,
            eos=tokenizer.EOS,
            pad=tokenizer.PAD,
        )
        captions.extend(tokenizer.decode(row[1:]) for row in ids)
    return captions


@dataclass
class CaptionScores:
    """Per-case scores of captions against the cases they describe.

    Attributes
    ----------
    sector_right:
        ``(n,)`` bool, the named compass point is the case's.
    speed_error:
        ``(n,)`` caption speed minus true mean speed [m s-1]; NaN where unparsable.
    true_sector, said_sector:
        ``(n,)`` sector indices into :data:`DIRECTION_NAMES`; ``said_sector`` is -1
        where the caption is unparsable.
    tolerance:
        Speed tolerance [m s-1] of :attr:`speed_within`.
    """

    sector_right: np.ndarray
    speed_error: np.ndarray
    true_sector: np.ndarray
    said_sector: np.ndarray
    tolerance: float

    @property
    def sector_accuracy(self) -> float:
        """Fraction of captions naming the right compass point."""
        return float(self.sector_right.mean())

    @property
    def speed_hits(self) -> np.ndarray:
        """``(n,)`` bool, speed within :attr:`tolerance` (False where unparsable)."""
        return np.nan_to_num(np.abs(self.speed_error), nan=np.inf) <= self.tolerance

    @property
    def speed_within(self) -> float:
        """Fraction of captions whose speed is within :attr:`tolerance` of the truth."""
        return float(self.speed_hits.mean())

    @property
    def grammatical(self) -> float:
        """Fraction of captions the grammar parses."""
        return float((self.said_sector >= 0).mean())

    @property
    def speed_mae(self) -> float:
        """Mean absolute speed error of the parsable captions [m s-1]."""
        errors = np.abs(self.speed_error[np.isfinite(self.speed_error)])
        return float(errors.mean()) if errors.size else float("nan")

    def confusion(self) -> np.ndarray:
        """Counts ``(8, 8)`` of [true sector, said sector]; unparsable captions left out."""
        counts = np.zeros((8, 8), dtype=int)
        parsed = self.said_sector >= 0
        np.add.at(counts, (self.true_sector[parsed], self.said_sector[parsed]), 1)
        return counts


def evaluate_captions(
    captions: Sequence[str], cases: Sequence[WindCase], tolerance: float = 3.0
) -> CaptionScores:
    """Score each caption's compass point and speed against its case (unparsable: wrong)."""
    if len(captions) != len(cases) or not cases:
        raise ConfigError(f"need one caption per case, got {len(captions)} and {len(cases)}")
    true_sector = np.array([DIRECTION_NAMES.index(direction_sector(c.direction)) for c in cases])
    said_sector = np.full(len(cases), -1)
    speed_error = np.full(len(cases), np.nan)
    for index, (text, case) in enumerate(zip(captions, cases, strict=True)):
        try:
            parsed = parse_caption(text)
        except DataFormatError:
            continue
        said_sector[index] = DIRECTION_NAMES.index(parsed.sector)
        speed_error[index] = parsed.speed - case.speed
    return CaptionScores(
        said_sector == true_sector, speed_error, true_sector, said_sector, tolerance
    )


def most_common_caption(captions: Sequence[str]) -> str:
    """The most frequent caption (first seen on ties): the constant baseline."""
    if not captions:
        raise ConfigError("no captions to take the most common one from")
    return Counter(captions).most_common(1)[0][0]


def rates_by_speed_bin(
    scores: CaptionScores, speeds: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sector accuracy, speed hit rate and case count per speed bin ``[edges[i], edges[i+1])``.

    ``speeds`` ``(n,)`` [m s-1] are the true speeds; empty bins give NaN rates.
    """
    index = np.digitize(speeds, edges) - 1
    bins = len(edges) - 1
    counts = np.array([(index == b).sum() for b in range(bins)])
    sector = np.array(
        [scores.sector_right[index == b].mean() if counts[b] else np.nan for b in range(bins)]
    )
    speed = np.array(
        [scores.speed_hits[index == b].mean() if counts[b] else np.nan for b in range(bins)]
    )
    return sector, speed, counts
