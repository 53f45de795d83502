"""What the command line promises on a failure, checked the same way by every test of it:
one line on stderr that starts with ``error:`` and names the problem, no traceback, exit status 1."""

from tutorial_lib.__main__ import main


def one_error_line(err: str) -> str:
    """The one error line of a command's stderr (progress bars, which share stderr, left out)."""
    lines = [line for line in err.strip().splitlines() if "%|" not in line and "\r" not in line and line.strip()]
    assert "Traceback" not in err, err
    assert lines and lines[-1].startswith("error: "), f"expected an error line on stderr, got:\n{err}"
    return lines[-1]


def fails_with(capsys, argv, message, status=1):
    """Run ``python -m tutorial_lib ARGV`` in this process: it fails with ``status`` and exactly one
    error line on stderr that contains ``message``; the line is returned."""
    assert main(argv) == status
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if "%|" not in line]  # progress bars share stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), f"expected one error line on stderr, got:\n{err}"
    assert "Traceback" not in err
    assert message in lines[0], lines[0]
    return lines[0]
