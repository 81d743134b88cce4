"""A four-document corpus (Markdown, text, code) shared by the file and PostgreSQL store tests."""

DOCS = {
    "radar.md": (
        "# Radar\n"
        "Weather radar measures reflectivity in dBZ from precipitation particles.\n"
        "Heavy convective rain shows reflectivity above 45 dBZ.\n"
    ),
    "ensemble.md": (
        "# Ensembles\n"
        "An ensemble forecast runs the model many times from perturbed initial states.\n"
        "The spread of the members estimates forecast uncertainty.\n"
    ),
    "soil.txt": (
        "Soil moisture controls evaporation and the partition of surface energy fluxes.\n"
        "Dry soils heat up faster during the day.\n"
    ),
    "units.py": (
        "def kelvin_to_celsius(t):\n"
        '    """Convert temperature from kelvin to degrees Celsius."""\n'
        "    return t - 273.15\n"
        "\n"
        "def zq7_flux_helper(x):\n"
        '    """Internal helper."""\n'
        "    return 2 * x\n"
    ),
}
