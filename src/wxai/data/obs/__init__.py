"""Point observations: SYNOP NetCDF, DWD feedback files and AIREP diagnostics.

Modules
-------
synop
    :func:`~wxai.data.obs.synop.read_synop` for BUFR-derived SYNOP NetCDF files.
feedback
    :func:`~wxai.data.obs.feedback.read_feedback` for DWD feedback (fdbk) files,
    O-B / O-A statistics and the QC filter.
airep
    Aircraft diagnostics: density against height, innovation profiles and
    horizontal density maps.
"""
