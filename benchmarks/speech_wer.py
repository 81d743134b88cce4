"""Word error rate and speed of speech input on synthesised weather requests.

Usage: ``python benchmarks/speech_wer.py [--threads 2] [--limit 22] [--given]
[--without-prompt] [--voice-de de+m7] [--speed-de 120]``. The German and English
requests of :data:`wxai.assistant.speech.phrases.WEATHER_REQUESTS` are read aloud by
espeak-ng and transcribed by Whisper base (language detected among de/en; also given
with ``--given``; also without the weather-service prompt with ``--without-prompt``)
and, for
English, by pocketsphinx. Printed per language and engine: word error rate over all
requests (lower-cased, punctuation removed), share of correctly detected languages,
and the real-time factor (recognition time / audio duration) measured in this run.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def main() -> None:
    import jiwer

    from wxai.assistant.speech import SphinxRecognizer, WhisperRecognizer, load_audio
    from wxai.assistant.speech.phrases import VOICES, WEATHER_REQUESTS, synthesise

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=100, help="requests per language")
    parser.add_argument(
        "--given", action="store_true", help="also run Whisper with the language given"
    )
    parser.add_argument(
        "--without-prompt",
        action="store_true",
        help="also run Whisper without the weather-service prompt (DOMAIN_PROMPTS)",
    )
    for language, (voice, speed) in VOICES.items():
        parser.add_argument(f"--voice-{language}", default=voice)
        parser.add_argument(f"--speed-{language}", type=int, default=speed)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        whisper = WhisperRecognizer(Path(cache), threads=args.threads)
        bare = WhisperRecognizer(Path(cache), threads=args.threads, prompt=False)
        started = time.perf_counter()
        whisper.model  # noqa: B018 - join, check and load the model before timing
        loaded = time.perf_counter() - started
        print(f"Whisper base: model joined, checked and loaded in {loaded:.1f} s")
        sphinx = SphinxRecognizer()
        rows = []
        for language, texts in WEATHER_REQUESTS.items():
            voice = getattr(args, f"voice_{language}")
            speed = getattr(args, f"speed_{language}")
            audios = [
                load_audio(synthesise(t, language, voice=voice, speed=speed))
                for t in texts[: args.limit]
            ]
            references = [_normalise(t) for t in texts[: args.limit]]
            runs = [("whisper-base auto", whisper, None)]
            if args.given:
                runs.append(("whisper-base given", whisper, language))
            if args.without_prompt:
                runs.append(("whisper no prompt", bare, None))
                if args.given:
                    runs.append(("whisper no pr. given", bare, language))
            if language == "en":
                runs.append(("pocketsphinx", sphinx, "en"))
            for label, engine, given in runs:
                hypotheses, detected, seconds = [], 0, 0.0
                for audio in audios:
                    transcript = engine.transcribe(audio, given)
                    hypotheses.append(_normalise(transcript.text) or "-")
                    detected += transcript.language == language
                    seconds += transcript.seconds
                duration = sum(audio.duration_s for audio in audios)
                wer = jiwer.wer(references, hypotheses)
                rows.append(
                    (language, label, len(audios), wer, detected / len(audios), seconds / duration)
                )
                for reference, hypothesis in zip(references, hypotheses, strict=True):
                    if reference != hypothesis:
                        print(f"  [{language} {label}] {reference!r} -> {hypothesis!r}")
        print(
            f"\nvoices: de={args.voice_de}@{args.speed_de} wpm, "
            f"en={args.voice_en}@{args.speed_en} wpm; {args.threads} threads"
        )
        print(f"{'lang':<5}{'engine':<20}{'n':>4}{'WER':>8}{'lang ok':>9}{'RTF':>7}")
        for language, label, n, wer, detected, rtf in rows:
            print(f"{language:<5}{label:<20}{n:>4}{wer:>8.3f}{detected:>9.2f}{rtf:>7.2f}")


if __name__ == "__main__":
    main()
