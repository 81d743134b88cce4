from wxai.core.diagnostics import check_directories, check_tools, run_checks


def test_doctor_checks_cover_every_group():
    checks = run_checks()
    groups = {check.group for check in checks}
    assert {"python", "packages", "accelerators", "assets", "directories", "tools"} <= groups
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
