"""Helpers for the smoke tests: run an experiment script's ``main`` in-process."""
import importlib.util
import json
import os

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script(script):
    """Import ``experiments/NAME.py`` (path relative to the repository root) as a module."""
    path = os.path.join(_ROOT, script)
    name = 'script_' + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(script, argv):
    """Run ``main(argv)`` of the script and return its ``results.json`` as a dict.

    ``argv`` must contain ``--out DIR``.
    """
    module = load_script(script)
    module.main(list(argv))
    out = argv[list(argv).index('--out') + 1]
    with open(os.path.join(out, 'results.json')) as f:
        return json.load(f)


def refused(script, argv, capsys):
    """Run ``experiments/SCRIPT.py`` through ``run_main`` and check it refuses ``argv`` as a
    user should see it: exit status 2 and one ``...: error: ...`` line on stderr, no traceback
    (the mnist-5k fallback's warning aside). Returns that line. For pytest tests."""
    import pytest
    from expkit.cli import run_main
    module = load_script('experiments/%s.py' % script)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    lines = [line for line in err.strip().splitlines() if not line.startswith('WARNING: MNIST')]
    assert len(lines) == 1 and ': error: ' in lines[0] and 'Traceback' not in err, err
    return lines[0]
