"""Model grids: ICON triangular grid files and synthetic icosahedral grids.

Modules
-------
icon
    :class:`~wxai.data.grids.icon.IconGrid`, :func:`~wxai.data.grids.icon.read_icon_grid`,
    triangulation with dateline mending, remapping to regular latitude/longitude grids.
icosahedral
    :func:`~wxai.data.grids.icosahedral.icosahedral_grid` and
    :func:`~wxai.data.grids.icosahedral.write_icon_grid` (ICON-like files, offline).
"""
