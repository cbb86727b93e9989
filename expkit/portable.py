"""Paths in ``results.json`` and run records, written so that they hold on any computer.

A recorded command reads ``--data-dir $MNIST_DIR --out OUT --resume OUT/snapshot_iter_N.npz``
instead of the folders of the computer it ran on: the output folder becomes ``OUT``, the data
folder ``$MNIST_DIR``, paths inside the repository become relative to its root, an installed
package's files start at ``site-packages/``, the home folder is ``~``, and another path on
the output folder's disk (a snapshot of another run) is written from ``OUT``.
"""
import os
import re
import sysconfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prefixes(out=None, data_dirs=()):
    """``[(absolute folder, its portable name)]``, longest folder first."""
    pairs = [(out, 'OUT')] + [(d, '$MNIST_DIR') for d in data_dirs] + [
        (ROOT, '.'), (os.getcwd(), '.'), (sysconfig.get_paths()['purelib'], 'site-packages'),
        (os.path.expanduser('~'), '~')]
    seen, found = set(), []
    for folder, name in pairs:
        if folder and os.path.abspath(folder) != os.sep:
            folder = os.path.abspath(folder).rstrip(os.sep)
            if folder not in seen:
                seen.add(folder)
                found.append((folder, name))
    return sorted(found, key=lambda p: -len(p[0]))


def portable(value, out=None, data_dirs=()):
    """``value`` (a results dict, a list, a string) with every path under ``prefixes`` written
    portably; ``out`` and ``data_dirs`` may be given relative or absolute."""
    pairs = prefixes(out, data_dirs)
    pairs += [(os.path.normpath(d), name) for d, name in [(out, 'OUT')] + [
        (d, '$MNIST_DIR') for d in data_dirs] if d and not os.path.isabs(d)]   # as typed
    pattern = re.compile('(?<![\\w./~$-])(%s)(?=/|$|[\\s\'",;)])' % '|'.join(
        re.escape(folder) for folder, _ in pairs))
    names = dict(pairs)
    top = os.path.abspath(out).split(os.sep)[:2] if out else None

    def other(m):      # /disk/runs/b/snap.npz beside OUT = /disk/runs/a -> OUT/../b/snap.npz
        path = m.group(0)
        if top and path.split(os.sep)[:2] == top:
            return os.path.join('OUT', os.path.relpath(path, os.path.abspath(out)))
        return path

    def convert(v):
        if isinstance(v, str):
            text = pattern.sub(lambda m: names[m.group(1)], v)
            text = re.sub(r'(?<![\w.~$-])/\S*?/site-packages/', 'site-packages/', text)
            text = re.sub(r'(?<![\w.~$-])/[^\s\'",;)]+', other, text)
            return re.sub(r'(?<![\w.~$-])\./', '', text)    # ./experiments/x.py -> experiments/
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [convert(x) for x in v]
        return v
    return convert(value)
