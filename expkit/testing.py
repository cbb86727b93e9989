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
