"""Every option and every setting of every script, fed the edges of its declared range and
junk.

The matrix is generated, not listed: each script's parser is taken just before it parses
(``expkit.validate.script_parser``), and each option's or setting's ``type=`` lists its own
boundary and junk values (``cases``). A refused value must end with exit status 2 and one line
on stderr that names the option (a setting: ``--set KEY``), with no traceback; an accepted one
must parse. An option or setting with a value but without a declared range (a plain
``type=int``, or no type) fails the test, so a new one is covered, or flagged, with no new
test code.
"""
import argparse
import contextlib
import glob
import io
import os

import pytest

from expkit import validate
from expkit.testing import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'experiments',
                                                                          '*.py'))
                 if not p.endswith('report.py'))   # report.py is a tool, not an experiment


def _parser(script):
    return validate.script_parser(load_script('experiments/%s.py' % script).main)


def _parse(parser, argv):
    """(exit status or None, stderr, namespace)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return None, err.getvalue(), parser.parse_args(argv)
        except SystemExit as exc:
            return exc.code, err.getvalue(), None


def _value_cases(action, tmp_path):
    if action.choices is not None:
        choices = [str(c) for c in action.choices]
        return [(c, True) for c in choices] + [('no-such-choice', False), ('', False)]
    cases = getattr(action.type, 'cases', None)
    return cases(tmp_path) if cases else None


def _setting_cases(action, tmp_path):
    """A setting's cases as ``--set`` words: ``key=text`` (a switch: ``key`` alone, and with
    a value refused); a list setting takes its items comma-separated."""
    keys = [s[2:] for s in action.option_strings]
    if action.nargs == 0:
        return [(key, True) for key in keys] + [(key + '=junk', False) for key in keys]
    cases = _value_cases(action, tmp_path)
    if cases is None:
        return None
    if action.nargs in ('+', '*'):
        good = next(t for t, ok in cases if ok)
        bad = next(t for t, ok in cases if not ok and t)
        cases = [(t, ok) for t, ok in cases if ',' not in t] + [
            (good + ',' + good, True), (good + ',' + bad, False)]
    return [('%s=%s' % (keys[0], t), ok) for t, ok in cases]


def test_every_script_is_in_the_matrix():
    assert len(SCRIPTS) >= 17 and 'aae_gaussian' in SCRIPTS and 'm1m2_semisupervised' in SCRIPTS


@pytest.mark.parametrize('script', SCRIPTS)
def test_option_matrix(script, tmp_path):
    (tmp_path / 'a-file').write_text('not a folder\n')
    out = tmp_path / 'out'
    parser = _parser(script)
    before = sorted(os.listdir(tmp_path))
    failures, n_cases, undeclared = [], 0, []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        option = action.option_strings[-1]
        if action.nargs == 0:                 # a flag: it takes no value
            code, err, _ = _parse(parser, ['%s=junk' % option, '--out', str(out)])
            cases = []
            if code != 2 or len(err.strip().splitlines()) != 1:
                failures.append('%s=junk: exit %s, %r' % (option, code, err))
            code, err, ns = _parse(parser, [option, '--out', str(out)])
            if code is not None:
                failures.append('%s alone: exit %s, %r' % (option, code, err))
            n_cases += 2
            continue
        cases = _value_cases(action, tmp_path)
        if cases is None:
            undeclared.append(option)
            continue
        for text, accepted in cases:
            n_cases += 1
            argv = ['%s=%s' % (option, text)] + ([] if option == '--out' else ['--out', str(out)])
            code, err, ns = _parse(parser, argv)
            lines = err.strip().splitlines()
            if accepted and code is not None:
                failures.append('%s %r refused: %r' % (option, text, err))
            elif not accepted and (code != 2 or len(lines) != 1 or option not in lines[0]
                                   or 'Traceback' in err or ': error: ' not in lines[0]):
                failures.append('%s %r: exit %s, stderr %r' % (option, text, code, err))
    for action in parser.settings._actions:
        cases = _setting_cases(action, tmp_path)
        if cases is None:
            undeclared.append('--set ' + action.option_strings[0][2:])
            continue
        for text, accepted in cases:
            n_cases += 1
            code, err, ns = _parse(parser, ['--set', text, '--out', str(out)])
            lines = err.strip().splitlines()
            named = '--set %s' % text.partition('=')[0]
            if accepted and code is not None:
                failures.append('--set %s refused: %r' % (text, err))
            elif not accepted and (code != 2 or len(lines) != 1 or named not in lines[0]
                                   or 'Traceback' in err or ': error: ' not in lines[0]):
                failures.append('--set %s: exit %s, stderr %r' % (text, code, err))
    assert not undeclared, ('%s: options or settings without a declared range or choices '
                            '(give them a type= from expkit.validate): %s'
                            % (script, undeclared))
    assert not failures, '%s:\n%s' % (script, '\n'.join(failures))
    trains = any('--epoch' in a.option_strings for a in parser._actions)
    assert n_cases > (40 if trains else 15)    # a figure-only script has few options
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == before   # the --out probe leaves nothing behind


def test_a_plain_int_option_or_setting_is_flagged(tmp_path):
    """The matrix notices an option or a setting added without a declared range."""
    from expkit import make_parser
    parser = make_parser('t', epoch=1, batchsize=1, out=str(tmp_path / 'out'))
    parser.add_argument('--width', type=int, default=3)
    action = [a for a in parser._actions if '--width' in a.option_strings][0]
    assert _value_cases(action, tmp_path) is None
    assert _setting_cases(parser.add_setting('--depth', type=int, default=3), tmp_path) is None


@pytest.mark.parametrize('argv, needle', [
    (['--set', 'unknown=1'], "no setting 'unknown'; pass KEY=VALUE with KEY one of"),
    (['--set', 'dis-noise=junk'], "--set dis-noise: 'junk' is not a number"),
    (['--set', 'dis-noise'], 'pass --set dis-noise=STD'),
    (['--set', 'supervised-only=1'], 'pass --set supervised-only, without a value'),
    (['--dis-noise', '0.3'], '--dis-noise is a setting: pass --set dis-noise=STD')])
def test_a_bad_setting_is_one_line_and_exit_2(argv, needle, tmp_path, capsys):
    from expkit.testing import refused
    line = refused('aae_semisupervised', argv + ['--out', str(tmp_path / 'out')], capsys)
    assert needle in line, line
    assert not (tmp_path / 'out').exists()


def test_an_explicit_setting_wins_over_the_recipe(tmp_path):
    parser = _parser('aae_semisupervised')
    out = ['--out', str(tmp_path / 'out')]
    seed = parser.parse_args(['--recipe', 'seed'] + out)
    assert (seed.dis_noise, seed.optimizer, seed.labelled_reconstruction) == (0.3, 'adam', True)
    args = parser.parse_args(['--recipe', 'seed', '--set', 'dis-noise=0.1', '--set',
                              'no-labelled-reconstruction', '--set', 'optimizer=sgd'] + out)
    assert (args.dis_noise, args.optimizer, args.labelled_reconstruction) == (0.1, 'sgd', False)
    assert args.batchsize == 64 and args.rec_loss == 'sum'     # the rest: the recipe's
    assert args.recipe_settings == seed.recipe_settings        # results.json: what it set
    assert args.recipe_settings['dis_noise'] == 0.3
    assert parser.given(['--recipe', 'seed', '--set', 'dis-noise=0.1']) == {'recipe',
                                                                           'dis_noise'}


@pytest.mark.parametrize('text, accepted', [
    ('1', True), ('0', False), ('-1', False), ('nan', False), ('inf', False), ('1.0', False),
    (' 7 ', True), ('2147483647', True), ('2147483648', False), ('abc', False)])
def test_positive_int(text, accepted):
    if accepted:
        assert validate.positive_int(text) == int(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            validate.positive_int(text)


@pytest.mark.parametrize('kind, text, accepted', [
    ('positive_float', '1e-30', True), ('positive_float', '0', False),
    ('positive_float', 'nan', False), ('positive_float', '-inf', False),
    ('nonnegative_float', '0', True), ('nonnegative_float', '-1e-30', False),
    ('probability', '1', True), ('probability', '1.0000001', False),
    ('probability', '0', True), ('probability', 'NaN', False)])
def test_floats(kind, text, accepted):
    check = getattr(validate, kind)
    if accepted:
        assert check(text) == float(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            check(text)


def test_writable_dir_creates_nothing(tmp_path):
    target = tmp_path / 'a' / 'b'
    assert validate.writable_dir(str(target)) == str(target)
    assert os.listdir(tmp_path) == []
    with pytest.raises(argparse.ArgumentTypeError, match='writable'):
        validate.writable_dir('/proc/expkit-no-such/out')


def test_epoch_list():
    assert validate.epoch_list('50,1000') == (50, 1000)
    assert validate.epoch_list('') == ()
    with pytest.raises(argparse.ArgumentTypeError, match='like 50,1000'):
        validate.epoch_list('50,x')
