from wxai.core.diagnostics import check_directories, check_tools, run_checks


def test_doctor_checks_cover_every_group():
    checks = run_checks()
    groups = {check.group for check in checks}
    expected = {"python", "packages", "accelerators", "assets", "directories", "tools", "eccodes"}
    assert expected <= groups
    cpu = [c for c in checks if c.group == "accelerators" and c.name == "cpu"]
    assert cpu and cpu[0].status == "ok"


def test_unwritable_home_fails(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("WXAI_HOME", str(blocker / "home"))
    from wxai.core.settings import reload_settings

    reload_settings()
    [check] = check_directories()
    assert check.status == "fail"
    assert "not writable" in check.detail


def test_missing_tool_is_a_warning(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert all(check.status == "warn" for check in check_tools())


def _dwd_tree(root, made_for: str):
    """A fake DWD definitions directory: grib2/localConcepts/edzw and a boot_extra.def."""
    (root / "grib2" / "localConcepts" / "edzw").mkdir(parents=True)
    (root / "boot_extra.def").write_text(f"constant edzwDefinitionFilesVersion = '{made_for}' ;\n")
    return root


def _by_name(checks):
    assert all(check.group == "eccodes" for check in checks)
    return {check.name: check for check in checks}


def test_eccodes_version_is_reported():
    import eccodes

    from wxai.core.diagnostics import check_eccodes

    first = check_eccodes()[0]
    assert (first.name, first.status) == ("ecCodes", "ok")
    assert eccodes.codes_get_api_version() in first.detail


def test_dwd_definitions_first_and_a_missing_entry(monkeypatch, tmp_path):
    import eccodes

    from wxai.core.diagnostics import check_eccodes, definition_path_checks

    library = eccodes.codes_get_api_version()
    dwd = _dwd_tree(tmp_path / "dwd", library)
    value = f"{dwd}:{tmp_path / 'missing'}:/MEMFS/definitions"
    monkeypatch.setenv("ECCODES_DEFINITION_PATH", value)
    monkeypatch.delenv("ECCODES_EXTRA_DEFINITION_PATH", raising=False)
    checks = _by_name(check_eccodes()[1:])
    assert checks["ECCODES_DEFINITION_PATH[0]"].status == "ok"
    assert f"DWD edzw definitions {library}" in checks["ECCODES_DEFINITION_PATH[0]"].detail
    assert checks["ECCODES_DEFINITION_PATH[1]"].status == "warn"
    assert "missing" in checks["ECCODES_DEFINITION_PATH[1]"].detail
    assert checks["ECCODES_DEFINITION_PATH[2]"].status == "ok"
    assert (checks["order"].status, checks["order"].detail) == (
        "ok",
        "DWD's edzw definitions come first",
    )
    # ecCodes in a process started with this path reports it as in use: no other warning.
    fresh = _by_name(definition_path_checks(value, library=library, in_use=value))
    assert [name for name, c in fresh.items() if c.status == "warn"] == [
        "ECCODES_DEFINITION_PATH[1]"
    ]


def test_wrong_order_old_dwd_version_and_a_stale_process_warn(tmp_path):
    from wxai.core.diagnostics import definition_path_checks

    dwd, other = _dwd_tree(tmp_path / "dwd", "2.47.0"), tmp_path / "other"
    other.mkdir()
    value = f"/MEMFS/definitions:{other}:{dwd}"
    checks = _by_name(definition_path_checks(value, library="2.50.0", in_use=value))
    assert checks["order"].status == "warn" and "not first" in checks["order"].detail
    assert checks["built-in last"].status == "warn" and str(dwd) in checks["built-in last"].detail
    assert checks["edzw version"].status == "warn"
    assert "2.47.0" in checks["edzw version"].detail and "2.50.0" in checks["edzw version"].detail
    stale = _by_name(
        definition_path_checks(str(dwd), library="2.47.0", in_use="/MEMFS/definitions")
    )
    assert stale["in use"].status == "warn" and "before Python starts" in stale["in use"].detail
    alone = _by_name(definition_path_checks(str(dwd), library="2.47.0", in_use=str(dwd)))
    assert alone["built-in last"].status == "warn"
    assert alone["built-in last"].detail.endswith(":/MEMFS/definitions")


def test_unset_and_extra_definition_paths(tmp_path):
    from wxai.core.diagnostics import definition_path_checks

    [unset] = definition_path_checks(None, None, library="2.50.0", in_use="/MEMFS/definitions")
    assert unset.status == "ok" and "not set" in unset.detail
    dwd = _dwd_tree(tmp_path / "dwd", "2.50.0")
    # ECCODES_EXTRA_DEFINITION_PATH is searched before ECCODES_DEFINITION_PATH
    checks = definition_path_checks(
        None, str(dwd), library="2.50.0", in_use=f"{dwd}:/MEMFS/definitions"
    )
    assert [c.status for c in checks] == ["ok", "ok"]
    assert checks[0].name == "ECCODES_EXTRA_DEFINITION_PATH[0]"


def test_doctor_prints_definition_path_warnings(tmp_path):
    import os
    import subprocess
    import sys

    dwd = _dwd_tree(tmp_path / "dwd", "0.0.1")
    env = {
        **os.environ,
        "WXAI_HOME": str(tmp_path / "home"),
        "ECCODES_DEFINITION_PATH": f"{tmp_path / 'missing'}:{dwd}:/MEMFS/definitions",
    }
    out = subprocess.run(
        [sys.executable, "-m", "wxai.cli", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in out.stderr, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("warning eccodes/")]
    assert any(f"ECCODES_DEFINITION_PATH[0]: {tmp_path / 'missing'}: missing" in x for x in lines)
    assert any(line.startswith("warning eccodes/order: DWD's edzw") for line in lines)
    assert any(line.startswith("warning eccodes/edzw version") for line in lines)
