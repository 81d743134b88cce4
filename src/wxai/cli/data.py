"""``wxai data``: inspect weather data files and fetch open data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Inspect weather data files and fetch open data.", no_args_is_help=True)


@app.callback()
def _data() -> None:
    """Inspect weather data files (GRIB, NetCDF, Zarr, ODIM_H5) and fetch open data."""


def _jsonable(value: Any) -> Any:  # noqa: PLR0911
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _describe_dataset(ds) -> list[dict[str, Any]]:
    rows = []
    for name, da in ds.data_vars.items():
        rows.append(
            {
                "name": str(name),
                "dims": {str(d): int(n) for d, n in da.sizes.items()},
                "dtype": str(da.dtype),
                "attrs": _jsonable(dict(da.attrs)),
            }
        )
    return rows


def _describe_groups(tree) -> list[dict[str, Any]]:
    """One row per node of a GRIB tree: its variables with their dims."""
    groups = []
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        if not ds.data_vars:
            continue
        variables = _describe_dataset(node.to_dataset())
        for row in variables:
            row["attrs"] = {k: v for k, v in row["attrs"].items() if k in _GROUP_ATTRS}
        groups.append({"group": node.path, "variables": variables})
    return groups


_GROUP_ATTRS = ("GRIB_shortName", "GRIB_typeOfLevel", "GRIB_gridType", "units", "long_name")


def describe(path: Path) -> dict[str, Any]:
    """Format and contents of a data file, as plain JSON-able data.

    Returns
    -------
    dict
        ``{"path", "format", "groups", "messages"}`` for GRIB (the groups of
        :func:`~wxai.data.formats.grib.read_grib` with their variables, and one
        dict of keys per message) or ``{"path", "format", "variables", "attrs"}`` otherwise.
    """
    from wxai.data.formats import sniff_format

    fmt = sniff_format(path)
    if fmt == "grib":
        from wxai.data.formats.grib import list_messages, read_grib

        tree = read_grib(path, lazy=True)  # headers only: groups without decoding values
        return {
            "path": str(path),
            "format": fmt,
            "groups": _describe_groups(tree),
            "messages": _jsonable(list_messages(path)),
        }
    if fmt == "odim":
        import xarray as xr

        from wxai.data.formats.odim import read_odim

        da = read_odim(path)
        ds = xr.Dataset({da.name: da})
        return {"path": str(path), "format": fmt, "variables": _describe_dataset(ds), "attrs": {}}
    if fmt == "zarr":
        from wxai.data.formats.zarr_store import read_zarr

        ds = read_zarr(path)
    else:
        from wxai.data.formats.netcdf import read_netcdf

        ds = read_netcdf(path, chunks={})
    out = {
        "path": str(path),
        "format": fmt,
        "variables": _describe_dataset(ds),
        "attrs": _jsonable(dict(ds.attrs)),
    }
    ds.close()
    return out


_GRIB_COLUMNS = (
    "shortName",
    "typeOfLevel",
    "level",
    "step",
    "dataDate",
    "dataTime",
    "gridType",
    "numberOfValues",
    "name",
)
# Short headers, so that an 80-column terminal or a pipe shows the keys whole;
# the free-text columns (level type, grid, name) wrap instead.
_GRIB_HEADERS = {
    "shortName": "short",
    "typeOfLevel": "level type",
    "dataDate": "date",
    "dataTime": "time",
    "gridType": "grid",
    "numberOfValues": "values",
}
_GRIB_WRAPPED = {"typeOfLevel", "gridType", "name"}


def _groups_table(file: Path, groups: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{file}: {len(groups)} group(s), as read_grib returns them")
    table.add_column("group", no_wrap=True)
    table.add_column("variable", no_wrap=True)
    table.add_column("short", no_wrap=True)
    table.add_column("dims", overflow="fold")
    table.add_column("units", overflow="fold")
    for group in groups:
        for row in group["variables"]:
            dims = " ".join(f"{d}={n}" for d, n in row["dims"].items())
            attrs = row["attrs"]
            table.add_row(
                group["group"],
                row["name"],
                str(attrs.get("GRIB_shortName", "")),
                dims,
                str(attrs.get("units", "")),
            )
    return table


@app.command("ls")
def ls_command(
    file: Annotated[Path, typer.Argument(help="GRIB, NetCDF, ODIM_H5 file or Zarr store.")],
    json_output: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List the messages (GRIB) or variables with dims and attributes (NetCDF, Zarr, ODIM)."""
    from wxai.core.errors import WxaiError

    try:
        info = describe(file)
    except WxaiError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    if json_output:
        print(json.dumps(info, indent=2))
        return
    console = Console(soft_wrap=True)
    if info["format"] == "grib":
        console.print(_groups_table(file, info["groups"]))
        table = Table(title=f"{file} (GRIB, {len(info['messages'])} messages)")
        table.add_column("#", no_wrap=True)
        for column in _GRIB_COLUMNS:
            wrapped = column in _GRIB_WRAPPED
            table.add_column(
                _GRIB_HEADERS.get(column, column),
                no_wrap=not wrapped,
                overflow="fold" if wrapped else "ellipsis",
            )
        for msg in info["messages"]:
            table.add_row(str(msg["index"]), *(str(msg.get(c, "")) for c in _GRIB_COLUMNS))
        console.print(table)
        return
    table = Table(title=f"{file} ({info['format']})")
    name_width = max((len(var["name"]) for var in info["variables"]), default=8)
    table.add_column("variable", no_wrap=True, min_width=name_width)  # names stay whole
    for column in ("dims", "dtype", "units", "attributes"):
        table.add_column(column, overflow="fold")
    for var in info["variables"]:
        dims = ", ".join(f"{d}={n}" for d, n in var["dims"].items())
        attrs = "; ".join(f"{k}={v}" for k, v in var["attrs"].items() if k != "units")
        table.add_row(var["name"], dims, var["dtype"], str(var["attrs"].get("units", "")), attrs)
    console.print(table)


@app.command("fetch")
def fetch_command(
    source: Annotated[str, typer.Argument(help="ifs, icon-eu, dwd-cth or dwd-radar.")],
    request: Annotated[
        list[str] | None,
        typer.Argument(help="Request as KEY=VALUE, e.g. variable=t_2m steps=0-6 (icon-eu)."),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the cache only; never touch the network.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the paths as JSON.")] = False,
) -> None:
    """Download open data into the wxai cache (or find it there) and print the files."""
    from wxai.core.errors import ConfigError
    from wxai.data.sources import fetch

    pairs: dict[str, str] = {}
    for item in request or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"request items are KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    paths = fetch(source, offline=offline, **pairs)
    if json_output:
        print(json.dumps([str(path) for path in paths], indent=2))
        return
    for path in paths:
        Console().print(str(path), highlight=False, soft_wrap=True)


@app.command("samples")
def samples_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Target directory (default: <wxai home>/samples)."),
    ] = None,
) -> None:
    """Write synthetic sample files (GRIB2, SYNOP, feedback, radar, CTH) and print them."""
    from wxai.core.paths import home_dir
    from wxai.data.synthetic.samples import write_samples

    target = out if out is not None else home_dir() / "samples"
    paths = write_samples(target)
    console = Console(soft_wrap=True)
    for key, path in paths.items():
        console.print(f"{key:12s} {path} ({path.stat().st_size / 1e3:.0f} kB)", highlight=False)


@app.command("plot")
def plot_command(  # noqa: PLR0917 -- typer options
    path: Annotated[Path, typer.Argument(help="GRIB, NetCDF or ODIM file.")],
    var: Annotated[str | None, typer.Option("--var", help="Variable to draw.")] = None,
    projection: Annotated[
        str,
        typer.Option(help="PlateCarree, Geostationary, TransverseMercator or LambertConformal."),
    ] = "PlateCarree",
    out: Annotated[Path | None, typer.Option("--out", help="PNG to write.")] = None,
    level: Annotated[
        float | None,
        typer.Option("--level", help="Vertical level to draw (hPa, m or model level)."),
    ] = None,
    level_type: Annotated[
        str | None,
        typer.Option("--level-type", help="GRIB typeOfLevel, e.g. hybrid or isobaricInhPa."),
    ] = None,
) -> None:
    """Draw a quick-look map of a file's first (or the named) variable."""
    from wxai.viz.quicklook import plot_file

    png = plot_file(
        path, var=var, projection=projection, out=out, level=level, level_type=level_type
    )
    Console().print(f"map written: {png}", highlight=False, soft_wrap=True)
