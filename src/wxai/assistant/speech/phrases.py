"""Spoken weather requests in German and English, for tests and the speech benchmark.

:func:`synthesise` reads them aloud with espeak-ng (a Debian package).

Each list has the kind of question the cockpit's weather workflow answers: a
variable, a place and a time. They are read aloud by a speech synthesiser
(espeak-ng) to measure word error rates without recordings of people.
"""

from __future__ import annotations

from wxai.core.errors import AssetNotFound

__all__ = ["VOICES", "WEATHER_REQUESTS", "synthesise"]

WEATHER_REQUESTS: dict[str, tuple[str, ...]] = {
    "de": (
        "Wie wird das Wetter morgen in Hamburg?",
        "Regnet es heute Abend in München?",
        "Wie viel Wind gibt es übermorgen in Kiel?",
        "Wie warm wird es morgen Mittag in Berlin?",
        "Wird es am Wochenende in Köln schneien?",
        "Wie hoch ist der Luftdruck morgen früh in Bremen?",
        "Gibt es heute Nachmittag Gewitter in Stuttgart?",
        "Wie stark weht der Wind morgen an der Nordsee?",
        "Wie kalt wird die Nacht in Leipzig?",
        "Wie viel Regen fällt morgen in Dresden?",
        "Scheint morgen in Frankfurt die Sonne?",
        "Wie bewölkt ist es heute in Hannover?",
        "Wie hoch ist die Luftfeuchtigkeit morgen in Rostock?",
        "Gibt es morgen Nebel in Freiburg?",
        "Wie wird das Wetter am Montag in Düsseldorf?",
        "Wie warm ist es jetzt in Nürnberg?",
        "Wird es morgen Abend in Bonn regnen?",
        "Wie viel Schnee fällt morgen in Garmisch?",
        "Wie stark sind die Böen heute in Lübeck?",
        "Gibt es morgen Frost in Erfurt?",
        "Wie ist die Vorhersage für Mainz am Dienstag?",
        "Wie wird die Temperatur heute Nacht in Potsdam?",
    ),
    "en": (
        "What will the weather be like tomorrow in Berlin?",
        "Will it rain tonight in London?",
        "How strong will the wind be in Hamburg tomorrow?",
        "What is the temperature in Munich right now?",
        "Will it snow in Vienna this weekend?",
        "How much rain will fall in Paris tomorrow?",
        "What is the forecast for Madrid on Monday?",
        "How cold will it be in Oslo tonight?",
        "Will there be thunderstorms in Rome this afternoon?",
        "What is the air pressure in Dublin tomorrow morning?",
        "How cloudy will it be in Amsterdam today?",
        "Will it be sunny in Lisbon tomorrow?",
        "What is the humidity in Copenhagen tomorrow?",
        "How warm will it be in Athens at noon?",
        "Will there be fog in Brussels tomorrow morning?",
        "How windy will it be in Edinburgh on Tuesday?",
        "What will the weather be in Prague the day after tomorrow?",
        "Is it going to rain in Zurich tomorrow evening?",
        "How much snow will fall in Innsbruck tomorrow?",
        "What is the wind speed in Stockholm tonight?",
        "Will there be frost in Warsaw tomorrow night?",
        "What will the temperature be in Frankfurt tomorrow at six?",
    ),
}


#: espeak-ng voice and speed (words per minute) that read each language clearly.
VOICES: dict[str, tuple[str, int]] = {"de": ("de+m7", 120), "en": ("en-us", 130)}


def synthesise(
    text: str, language: str, *, voice: str | None = None, speed: int | None = None
) -> bytes:
    """``text`` read aloud by espeak-ng, as WAV bytes (22.05 kHz mono 16-bit PCM).

    Parameters
    ----------
    text:
        What to say.
    language:
        "de" or "en" (picks the voice of :data:`VOICES`).
    voice, speed:
        espeak-ng voice name and words per minute, overriding :data:`VOICES`.

    Raises
    ------
    AssetNotFound
        espeak-ng is not installed (a Debian package: ``apt-get install espeak-ng``).
    """
    import shutil
    import subprocess

    program = shutil.which("espeak-ng")
    if program is None:
        raise AssetNotFound(
            "espeak-ng is not installed; install it with: apt-get install espeak-ng "
            "(or scripts/system-deps.sh)"
        )
    default_voice, default_speed = VOICES[language]
    result = subprocess.run(
        [
            program,
            "-v",
            voice or default_voice,
            "-s",
            str(speed or default_speed),
            "--stdout",
            text,
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout
