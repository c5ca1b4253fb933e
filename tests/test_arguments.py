"""Options a user can get wrong on the command line: each is refused before any work, with
what is wrong and what would do, and exit status 2.

Before, a time limit of 0, -1 or nan failed every publication as too slow, an infinite one
was reported as a bug in publish, --jobs 0 or -3 quietly ran one worker, and a preview on
port 99999 ended in a traceback.
"""
from __future__ import annotations

import pytest
from conftest import run_cli

REFUSED = [
    (["build", "--time-limit", "0"], "--time-limit: '0' is not a number of seconds above 0"),
    (["build", "--time-limit", "-1"], "--time-limit: '-1' is not a number of seconds"),
    (["build", "--time-limit", "nan"], "--time-limit: 'nan' is not a number of seconds"),
    (["release", "--time-limit", "inf"], "--time-limit: 'inf' is not a number of seconds"),
    (["build", "--memory-limit", "0"], "--memory-limit: '0' is not a number of MiB above 0"),
    (["build", "--memory-limit", "1.5"], "--memory-limit: '1.5' is not a number of MiB"),
    (["build", "--jobs", "0"], "--jobs/-j: '0' is not a number of worker processes, 1 or more"),
    (["release", "-j", "-3"], "--jobs/-j: '-3' is not a number of worker processes"),
    (["diff", "-j", "many"], "--jobs/-j: 'many' is not a number of worker processes"),
    (["preview", "--port", "99999"], "--port: '99999' is not a port from 1 to 65535"),
    (["preview", "--port", "-1"], "--port: '-1' is not a port from 1 to 65535"),
]


@pytest.mark.parametrize("arguments, message", REFUSED,
                         ids=[" ".join(arguments) for arguments, _ in REFUSED])
def test_a_wrong_option_is_refused_before_any_work(arguments, message, tmp_path, capsys):
    dist = tmp_path / "dist"
    extra = ["--dist", str(dist)] if arguments[0] in ("build", "release") else []
    code, out, _ = run_cli("--project", str(tmp_path), *arguments, *extra)
    assert code == 2 and out == ""
    assert message in capsys.readouterr().err  # argparse's own report, on sys.stderr
    assert not dist.exists()


@pytest.mark.parametrize("option, value", [("--time-limit", "0.5"), ("--time-limit", "1e3"),
                                           ("--memory-limit", "512"), ("--jobs", "1")])
def test_a_sensible_option_is_taken(option, value, tmp_path):
    """The same options with usable values get past the arguments: the run then reports the
    empty project, not the option."""
    code, _, err = run_cli("--project", str(tmp_path), "build", option, value,
                           "--dist", str(tmp_path / "dist"))
    assert code == 1 and "L001" in err and option not in err


def test_a_missing_argument_is_named_alone(tmp_path, capsys):
    """argparse counted diff's optional PATH among the arguments missing."""
    code, _, _ = run_cli("--project", str(tmp_path), "diff", "HEAD~1")
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("arguments are required: NEW")
