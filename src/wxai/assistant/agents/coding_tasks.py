"""Small programming tasks with checks, for the coding agent's benchmark and lab.

Each :class:`CodingTask` has a prompt and a way to tell a right program from a
wrong one: assertions run after the program in the sandbox (``check_code``), a
pattern its output must match (``stdout_pattern``), and files it must write
(``files``; a ``.png`` must be a PNG). The first is the lecture's example: a
polynomial bounded by 10 on [-10, 10].
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from wxai.assistant.agents.sandbox import SandboxResult
from wxai.core.errors import UnknownNameError

__all__ = ["TASKS", "CodingTask", "get_tasks"]

_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class CodingTask:
    """A task for the coding agent and its check.

    Attributes
    ----------
    name:
        Short identifier (``polynomial-bounded``).
    prompt:
        What the model is asked.
    check_code:
        Python run after the program, in its namespace; an exception fails it.
    stdout_pattern:
        A regular expression the program's output must contain ("" for none).
    files:
        Files the program must write in its work directory.
    """

    name: str
    prompt: str
    check_code: str = ""
    stdout_pattern: str = ""
    files: tuple[str, ...] = ()

    def host_check(self, result: SandboxResult) -> str | None:
        """What is wrong with a finished run's output and files (``None``: nothing)."""
        if self.stdout_pattern and not re.search(self.stdout_pattern, result.stdout):
            shown = result.stdout.strip()[-200:] or "nothing"
            return f"the output should contain /{self.stdout_pattern}/ but was: {shown}"
        for name in self.files:
            data = result.files.get(name)
            if data is None:
                return f"the program did not write the file {name}"
            if name.endswith(".png") and not data.startswith(_PNG):
                return f"{name} is not a PNG image"
        return None


def _fn(call: str, expected: str, name: str) -> str:
    """Check code: ``call`` must equal ``expected``, with a message saying both."""
    return (
        f"assert callable({name}), '{name} must be a function'\n"
        f"_got = {call}\n"
        f"assert _got == {expected}, {call!r} + ' returned ' + repr(_got) + "
        f"', expected ' + {expected!r}\n"
    )


def _close(call: str, expected: str, name: str) -> str:
    """Check code: ``call`` must be close to ``expected`` (NumPy's ``allclose``)."""
    return (
        f"import numpy as _np\n"
        f"assert callable({name}), '{name} must be a function'\n"
        f"_got = {call}\n"
        f"assert _np.allclose(_got, {expected}), {call!r} + ' returned ' + repr(_got) + "
        f"', expected ' + {expected!r}\n"
    )


#: The task set (22 tasks): the lecture's polynomial and surface plot, then small
#: numerical, statistical and string exercises, each checked.
TASKS: tuple[CodingTask, ...] = (
    CodingTask(
        "polynomial-bounded",
        "Write a Python function f(x) using numpy that returns a polynomial with "
        "|f(x)| < 10 for x in [-10, 10].",
        check_code=(
            "import numpy as _np\n"
            "_x = _np.linspace(-10, 10, 401)\n"
            "_y = _np.array([float(f(v)) for v in _x])\n"
            "assert _np.all(_np.abs(_y) < 10), "
            "f'|f(x)| reaches {_np.abs(_y).max():.3g} on [-10, 10], it must stay below 10'\n"
        ),
    ),
    CodingTask(
        "surface-png",
        "Using numpy and matplotlib, evaluate z = x**2 - y**2 on a grid for x and y in "
        "[-2, 2], draw it as a 3D surface plot and save the figure to surface.png.",
        files=("surface.png",),
    ),
    CodingTask("hello", "Print exactly: hello world", stdout_pattern=r"(?i)hello,? world"),
    CodingTask(
        "sum-1-100", "Print the sum of the integers from 1 to 100.", stdout_pattern=r"\b5050\b"
    ),
    CodingTask(
        "squares",
        "Print the squares of the integers from 1 to 10, one number per line.",
        stdout_pattern=r"\b1\b[\s\S]*\b4\b[\s\S]*\b9\b[\s\S]*\b81\b[\s\S]*\b100\b",
    ),
    CodingTask(
        "factorial",
        "Define a function factorial(n) that returns n! for a non-negative integer n.",
        check_code=_fn("factorial(5)", "120", "factorial") + _fn("factorial(0)", "1", "factorial"),
    ),
    CodingTask(
        "fibonacci",
        "Define a function fib(n) that returns the n-th Fibonacci number, "
        "with fib(0) = 0 and fib(1) = 1.",
        check_code=_fn("fib(10)", "55", "fib") + _fn("fib(1)", "1", "fib"),
    ),
    CodingTask(
        "is-prime",
        "Define a function is_prime(n) that returns True if the integer n is a prime "
        "number and False otherwise.",
        check_code=_fn(
            "[n for n in range(20) if is_prime(n)]", "[2, 3, 5, 7, 11, 13, 17, 19]", "is_prime"
        ),
    ),
    CodingTask(
        "reverse-string",
        "Define a function reverse(s) that returns the string s reversed.",
        check_code=_fn("reverse('radar!')", "'!radar'", "reverse"),
    ),
    CodingTask(
        "count-vowels",
        "Define a function count_vowels(s) that returns how many of the letters of s "
        "are vowels (a, e, i, o, u).",
        check_code=_fn("count_vowels('weather')", "3", "count_vowels"),
    ),
    CodingTask(
        "mean-std",
        "Using numpy, define a function stats(values) that returns a tuple "
        "(mean, standard deviation) of a list of numbers.",
        check_code=_close("stats([1.0, 2.0, 3.0, 4.0])", "(2.5, 1.118033988749895)", "stats"),
    ),
    CodingTask(
        "celsius-to-fahrenheit",
        "Define a function c_to_f(c) that converts a temperature from degrees Celsius "
        "to degrees Fahrenheit.",
        check_code=_close("[c_to_f(100), c_to_f(0), c_to_f(-40)]", "[212, 32, -40]", "c_to_f"),
    ),
    CodingTask(
        "kelvin-to-celsius",
        "Define a function k_to_c(k) that converts a temperature from kelvin to degrees Celsius.",
        check_code=_close("k_to_c(273.15)", "0.0", "k_to_c"),
    ),
    CodingTask(
        "wind-speed",
        "Define a function wind_speed(u, v) that returns the wind speed, the square "
        "root of u**2 + v**2, from the wind components u and v.",
        check_code=_close("wind_speed(3.0, 4.0)", "5.0", "wind_speed"),
    ),
    CodingTask(
        "largest",
        "Define a function largest(values) that returns the largest number in a list.",
        check_code=_fn("largest([3, -1, 7, 2])", "7", "largest"),
    ),
    CodingTask(
        "sort-descending",
        "Define a function sort_desc(values) that returns the list sorted from the "
        "largest to the smallest value.",
        check_code=_fn("sort_desc([3, 1, 2])", "[3, 2, 1]", "sort_desc"),
    ),
    CodingTask(
        "word-count",
        "Define a function word_count(text) that returns a dict mapping each word of "
        "text (words are separated by spaces) to how often it occurs.",
        check_code=_fn("word_count('rain or rain')", "{'rain': 2, 'or': 1}", "word_count"),
    ),
    CodingTask(
        "palindrome",
        "Define a function is_palindrome(s) that returns True when the string s reads "
        "the same forwards and backwards, and False otherwise.",
        check_code=_fn(
            "[is_palindrome('level'), is_palindrome('cloud')]", "[True, False]", "is_palindrome"
        ),
    ),
    CodingTask(
        "moving-average",
        "Using numpy, define a function moving_average(x, n) that returns the means of "
        "all windows of n consecutive values of the array x (len(x) - n + 1 values).",
        check_code=_close(
            "moving_average([1.0, 2.0, 3.0, 4.0], 2)", "[1.5, 2.5, 3.5]", "moving_average"
        ),
    ),
    CodingTask(
        "sine-maximum",
        "Using numpy, evaluate sin(x) at 1000 points from 0 to 2*pi and print the largest value.",
        stdout_pattern=r"\b(0\.99\d*|1\.0*)\b",
    ),
    CodingTask(
        "csv-squares",
        "Write a CSV file squares.csv with the header line x,y and one line for each "
        "x from 1 to 5 with y = x squared.",
        check_code=(
            "_rows = open('squares.csv').read().split()\n"
            "assert _rows[0].replace(' ', '') == 'x,y', f'header is {_rows[0]!r}, not x,y'\n"
            "assert [r.replace(' ', '') for r in _rows[1:]] == "
            "[f'{x},{x * x}' for x in range(1, 6)], f'rows are {_rows[1:]}'\n"
        ),
        files=("squares.csv",),
    ),
    CodingTask(
        "parabola-png",
        "Using matplotlib, plot y = x**2 for x from -5 to 5 and save the figure to parabola.png.",
        files=("parabola.png",),
    ),
)


def get_tasks(names: Iterable[str] | None = None) -> list[CodingTask]:
    """The tasks called ``names`` in that order (all of :data:`TASKS` when ``None``).

    Raises
    ------
    UnknownNameError
        A name is not a task; the message lists the valid ones.
    """
    by_name = {task.name: task for task in TASKS}
    if names is None:
        return list(TASKS)
    chosen = []
    for name in names:
        if name not in by_name:
            raise UnknownNameError("coding task", name, by_name)
        chosen.append(by_name[name])
    return chosen
