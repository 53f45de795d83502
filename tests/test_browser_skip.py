"""`make test` on a machine without Chromium or Playwright: the browser check is skipped with how
to enable it, and the run still passes (pytest must not end with "no tests collected", whose exit
status 5 would fail `make browser` and so `make test`)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_browser_check_skips_with_its_reason_and_passes_without_chromium():
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"CHROMIUM": "/nonexistent/chromium"}
    # The command `make browser` runs, with the browser pointing nowhere.
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/browser", "-v", "-rs"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "the browser check was skipped: no Chromium at /nonexistent/chromium" in result.stdout
    assert "To enable it: apt-get install -y chromium" in result.stdout
