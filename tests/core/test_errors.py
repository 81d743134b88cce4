import pytest

from wxai.core.errors import ConfigError, MissingExtra, UnknownNameError, WxaiError


def test_unknown_name_lists_valid_names_and_nearest_match():
    error = UnknownNameError("lab", "sine-regresion", ["wind-chill", "sine-regression"])
    message = str(error)
    assert "did you mean 'sine-regression'?" in message
    assert "sine-regression, wind-chill" in message  # sorted list of valid names
    assert isinstance(error, KeyError)
    assert isinstance(error, WxaiError)


def test_unknown_name_without_close_match_has_no_suggestion():
    message = str(UnknownNameError("asset", "zzz", ["alpha", "beta"]))
    assert "did you mean" not in message
    assert "alpha, beta" in message


def test_missing_extra_names_the_install_command():
    error = MissingExtra("cfgrib", "data")
    assert "pip install 'wxai[data]'" in str(error)
    assert isinstance(error, ImportError)


def test_config_error_is_value_error():
    with pytest.raises(ValueError):
        raise ConfigError("bad")
