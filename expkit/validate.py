"""Option validation, declared where an option is declared.

Every option with a value names its range in its ``type=``::

    parser.add_argument('--z-dim', type=positive_int, ...)
    parser.add_setting('--labelled-fraction', type=probability, ...)
    parser.add_argument('--out', type=writable_dir, ...)

argparse calls the type on the command-line text (and on a string default), so a value out
of range ends, through :class:`expkit.cli.OneLineParser`, as one line on stderr and exit
status 2 before anything runs. Each type also lists its own boundary and junk values
(:meth:`cases`), from which ``tests/test_option_matrix.py`` builds the test matrix of every
option of every script. Checks that need the loaded data use :func:`at_most`.
"""
import argparse
import math
import os
import re
import tempfile

from expkit.errors import UsageError

INT_MAX = 2 ** 31 - 1   # beyond this an epoch, size or count is a typo (and overflows int32)
_HUGE_INT = '1' + '0' * 40
_JUNK = ('abc', '', ' ', '1,2', '0x10')


class Number:
    """An int or float option in ``[lo, hi]`` (``lo_open``: ``(lo, hi]``); NaN and infinities
    are refused. ``even``: even integers only."""

    def __init__(self, kind, lo=None, hi=None, lo_open=False, even=False, name=None):
        self.kind, self.lo, self.hi, self.lo_open, self.even = kind, lo, hi, lo_open, even
        if kind is int and hi is None:
            self.hi = INT_MAX
        self.__name__ = name or kind.__name__   # argparse names the type in some messages

    def describe(self):
        noun = 'an even integer' if self.even else (
            'an integer' if self.kind is int else 'a finite number')
        if self.lo is not None and self.hi is not None and self.hi != INT_MAX:
            return '%s in %s%s, %s]' % (noun, '(' if self.lo_open else '[', self.lo, self.hi)
        text = noun
        if self.lo is not None:
            text += ' %s %s' % ('>' if self.lo_open else '>=', self.lo)
        if self.hi is not None and self.hi != INT_MAX:
            text += ' <= %s' % self.hi
        return text

    def __call__(self, text):
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError('%r is not a number; pass %s'
                                             % (text, self.describe()))
        if self.kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError('%r is not finite; pass %s'
                                             % (text, self.describe()))
        if self.hi is not None and value > self.hi:
            raise argparse.ArgumentTypeError('%s is too large; pass %s <= %s'
                                             % (text, self.describe(), self.hi))
        if ((self.lo is not None and (value < self.lo or self.lo_open and value == self.lo))
                or (self.even and value % 2)):
            raise argparse.ArgumentTypeError('%s is out of range; pass %s'
                                             % (text, self.describe()))
        return value

    def cases(self, tmp_path=None):
        """``(text, accepted)`` pairs: the range's edges and junk, for the test matrix."""
        texts = ['0', '-1', '1', 'nan', 'inf', '-inf', '1.5', '1e3', _HUGE_INT] + list(_JUNK)
        for edge in (self.lo, self.hi):
            if edge is not None:
                if self.kind is int:
                    texts += [str(edge - 1), str(edge), str(edge + 1)]
                else:
                    texts += [repr(edge), repr(edge * (1 + 1e-6) + 1e-12),
                              repr(edge * (1 - 1e-6) - 1e-12)]
        if self.kind is float:
            texts += ['1e400', '-1e-30', '1e-30']
        return [(t, self._expected(t)) for t in dict.fromkeys(texts)]

    def _expected(self, text):
        """What the range, written out independently of ``__call__``, says about ``text``."""
        if self.kind is int:
            if not re.fullmatch(r'\s*[-+]?\d+\s*', text):
                return False
            value = int(text)
        else:
            try:
                value = float(text)
            except ValueError:
                return False
            if value != value or value in (math.inf, -math.inf):
                return False
        if self.lo is not None and (value < self.lo or (self.lo_open and value <= self.lo)):
            return False
        if self.hi is not None and value > self.hi:
            return False
        return not (self.even and value % 2)


positive_int = Number(int, lo=1, name='positive_int')
nonnegative_int = Number(int, lo=0, name='nonnegative_int')
positive_float = Number(float, lo=0, lo_open=True, name='positive_float')
nonnegative_float = Number(float, lo=0, name='nonnegative_float')
probability = Number(float, lo=0, hi=1, name='probability')
seed = Number(int, lo=0, hi=2 ** 32 - 1, name='seed')        # numpy's seed range
gpu_id = Number(int, lo=-1, name='gpu_id')                   # -1 means the CPU


def int_at_least(lo, even=False):
    return Number(int, lo=lo, even=even, name='int_at_least_%d' % lo)


class IntList:
    """Comma-separated integers, each a ``Number`` (e.g. ``--set lr-drop=50,1000``); returns a
    tuple. ``allow_empty``: an empty text means none."""

    def __init__(self, item=positive_int, allow_empty=False, name='int_list', example='50,1000'):
        self.item, self.allow_empty, self.__name__ = item, allow_empty, name
        self.example = example

    def describe(self):
        return 'comma-separated integers, each %s, like %s%s' % (
            self.item.describe().replace('an integer ', ''), self.example,
            ' (or nothing)' if self.allow_empty else '')

    def __call__(self, text):
        items = [t for t in text.split(',') if t.strip()]
        if not items and not (self.allow_empty and not text.strip(', ')):
            raise argparse.ArgumentTypeError('%r: pass %s' % (text, self.describe()))
        try:
            return tuple(self.item(t) for t in items)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError('%r: pass %s' % (text, self.describe()))

    def cases(self, tmp_path=None):
        lo = self.item.lo
        return [('%d,%d' % (lo, lo + 5), True), ('%d' % lo, True), ('%d,%d' % (lo - 1, lo), False),
                ('1,x', False), ('1;2', False), ('nan', False), ('1.5', False),
                (_HUGE_INT, False), (',', self.allow_empty), ('', self.allow_empty)]


epoch_list = IntList(nonnegative_int, allow_empty=True, name='epoch_list')
positive_int_list = IntList(positive_int, name='positive_int_list')
update_list = IntList(nonnegative_int, allow_empty=True, name='update_list',
                      example='25000,500000')


class KeyedNumbers:
    """``key=value,key=value`` with keys from ``keys`` (any subset, each at most once) and
    each value of the type ``item`` (a :class:`Number`), as a dict; e.g. per-phase learning
    rates ``rec=1e-3,sup=2e-3``."""

    def __init__(self, keys, item, name):
        self.keys, self.item, self.__name__ = tuple(keys), item, name

    def describe(self):
        return 'comma-separated KEY=VALUE pairs, KEY one of %s, each VALUE %s, like %s=%s' % (
            '/'.join(self.keys), self.item.describe(), self.keys[0], '0.001')

    def __call__(self, text):
        out = {}
        for part in [t.strip() for t in text.split(',') if t.strip()] or ['']:
            key, sep, value = part.partition('=')
            if not sep or key not in self.keys or key in out:
                raise argparse.ArgumentTypeError('%r: pass %s' % (text, self.describe()))
            try:
                out[key] = self.item(value)
            except argparse.ArgumentTypeError:
                raise argparse.ArgumentTypeError('%r: pass %s' % (text, self.describe()))
        return out

    def cases(self, tmp_path=None):
        a, b = self.keys[0], self.keys[-1]
        return [('%s=0.001' % a, True), ('%s=0.001,%s=2' % (a, b), True),
                ('%s=0' % a, False), ('%s=-1' % a, False), ('%s=nan' % a, False),
                ('nokey=1', False), ('%s' % a, False), ('%s=1,%s=2' % (a, a), False),
                ('%s=x' % a, False), ('', False), (',', False), ('1e-3', False)]


# -- paths ------------------------------------------------------------------------------------
def _first_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def writable_dir(text):
    """An output folder: an existing writable folder, or one that can be created (the first
    existing parent is a folder we may write into). Nothing is created: the probe folder is
    removed again."""
    if not text.strip():
        raise argparse.ArgumentTypeError('empty path; pass --out DIR')
    path = os.path.abspath(text)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError('%s is a file, not a folder; pass a folder' % text)
    parent = _first_existing(path)
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError('cannot create %s: %s is a file; pass a folder in a '
                                         'writable place' % (text, parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError('cannot write into %s; pass a folder in a writable '
                                         'place' % parent)
    try:  # os.access says yes to root even where the file system says no (/proc, read-only)
        os.rmdir(tempfile.mkdtemp(prefix='.write-probe-', dir=parent))
    except OSError as exc:
        raise argparse.ArgumentTypeError('cannot write into %s (%s); pass a folder in a '
                                         'writable place' % (parent, exc.strerror or exc))
    return text


writable_dir.cases = lambda tmp_path: [
    (str(tmp_path / 'new' / 'deeper'), True), (str(tmp_path), True),
    (str(tmp_path / 'a-file'), False), (str(tmp_path / 'a-file' / 'sub'), False),
    ('/proc/expkit-no-such/out', False), ('', False)]


def readable_dir(text):
    """An existing folder we may read."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError('%s is not a folder; pass an existing folder'
                                         % (text or "''"))
    if not os.access(text, os.R_OK | os.X_OK):
        raise argparse.ArgumentTypeError('cannot read the folder %s' % text)
    return text


readable_dir.cases = lambda tmp_path: [
    (str(tmp_path), True), (str(tmp_path / 'missing'), False),
    (str(tmp_path / 'a-file'), False), ('', False)]


def readable_file(text):
    """An existing file we may read (a snapshot or model; whether it fits the script is
    checked when it is loaded)."""
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError('%s: no such file; pass a file written by an earlier '
                                         'run' % (text or "''"))
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError('cannot read %s' % text)
    return text


readable_file.cases = lambda tmp_path: [
    (str(tmp_path / 'a-file'), True), (str(tmp_path / 'missing.npz'), False),
    (str(tmp_path), False), ('', False)]


_DEVICE = re.compile(r'@numpy|@cupy:\d+|@intel64|native(:0)?|cuda:\d+|-?\d+')


def device_spec(text):
    """The syntax of a chainer device spec; whether the device exists is checked when the
    run starts (``expkit.device.resolve_device``)."""
    if not _DEVICE.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError("%r is not a device; pass '@numpy' or '@cupy:N'"
                                         % text)
    return text.strip()


device_spec.cases = lambda tmp_path: [
    ('@numpy', True), ('@cupy:0', True), ('-1', True), ('@cupy', False), ('gpu', False),
    ('', False), ('nan', False)]


# -- checks that need the data ----------------------------------------------------------------
def at_most(option, value, limit, what):
    """Refuse ``option value`` above ``limit`` (e.g. more labels than training images)."""
    if value > limit:
        raise UsageError('%s %s exceeds the %d %s; pass %s <= %d' % (option, value, limit, what,
                                                                       option, limit))
    return value


def below(option, value, limit, what):
    """Refuse ``option value`` at or above ``limit`` (e.g. a held-out set of every image)."""
    if value >= limit:
        raise UsageError('%s %s leaves none of the %d %s; pass %s < %d' % (
            option, value, limit, what, option, limit))
    return value


# -- the parser of a script, without running it -----------------------------------------------
class ParserBuilt(Exception):
    """Raised by :meth:`OneLineParser.parse_args` while :func:`script_parser` is active."""

    def __init__(self, parser):
        super().__init__('parser built')
        self.parser = parser


_capturing = []


def intercept(parser):
    """Called by ``OneLineParser.parse_args``: hand the parser to :func:`script_parser`."""
    if _capturing:
        raise ParserBuilt(parser)


def script_parser(main, argv=()):
    """The parser that ``main(argv)`` builds, taken just before it parses; nothing runs."""
    _capturing.append(True)
    try:
        main(list(argv))
    except ParserBuilt as built:
        return built.parser
    finally:
        _capturing.pop()
    raise RuntimeError('%r returned without parsing its arguments' % main)
