"""Every configuration the README quotes has a name: each command in its results table spells
at most two training options (beyond where the data is, how many threads, how long, and
what it resumes), and none spells a named recipe's settings by hand instead of its name.
Every command of the docs gives only what its script takes, settings as ``--set KEY=VALUE``."""
import glob
import os
import re

import pytest

from expkit.testing import load_script
from expkit.validate import script_parser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: options that say where and how long a run goes, not what it trains
NOT_TRAINING = {'--data-dir', '--threads', '--time-limit', '--resume', '--out', '--gpu',
                '--device'}


def readme_commands():
    text = open(os.path.join(ROOT, 'README.md'), encoding='utf-8').read()
    table = text.split('<!-- results-table:start -->')[1].split('<!-- results-table:end -->')[0]
    rows = [line.split(' | ') for line in table.splitlines() if line.startswith('| ')][2:]
    return [(row[0].strip('| '), row[3].strip('`')) for row in rows]


def parse(script, options, tmp_path):
    parser = script_parser(load_script('experiments/' + script).main)
    ns = vars(parser.parse_args(options + ['--out', str(tmp_path / 'out')]))
    return parser, ns, parser.given(options)


def spelled_recipes(parser, ns, given):
    """Recipes other than the one the command names whose every setting that differs from
    the named one's (the number of epochs aside) the command gives explicitly, same value."""
    if not parser.presets:
        return []
    dest, table = parser.presets
    named = table[ns[dest]]
    found = []
    for name, settings in table.items():
        if name == ns[dest]:
            continue
        differ = {k: v for k, v in settings.items()
                  if k != 'epoch' and named.get(k, parser.get_default(k)) != v}
        if differ and all(k in given and ns[k] == v for k, v in differ.items()):
            found.append(name)
    return found


@pytest.mark.parametrize('item,command', readme_commands())
def test_readme_command_is_named(item, command, tmp_path):
    script, *options = command.split()
    training = [o for o in options if o.startswith('--') and o not in NOT_TRAINING]
    assert len(training) <= 2, (item, training)
    parser, ns, given = parse(script, options, tmp_path)
    assert not spelled_recipes(parser, ns, given), (item, command)


def test_the_check_catches_a_recipe_spelled_by_hand(tmp_path):
    """The check above can fail: Table 2's balanced recipe spelled as fast plus two settings."""
    parser, ns, given = parse('aae_semisupervised.py', [
        '--recipe', 'fast', '--set', 'phase-lr=reg=1e-3', '--set', 'lr-drop-updates=25000'],
        tmp_path)
    assert spelled_recipes(parser, ns, given) == ['balanced']
    parser, ns, given = parse('aae_semisupervised.py', ['--recipe', 'balanced'], tmp_path)
    assert spelled_recipes(parser, ns, given) == []


DOCS = ['README.md'] + sorted(os.path.relpath(p, ROOT) for folder in ('docs', 'docs/results')
                              for p in glob.glob(os.path.join(ROOT, folder, '*.md')))


def _parsers():
    return {os.path.basename(p): script_parser(load_script(os.path.relpath(p, ROOT)).main)
            for p in glob.glob(os.path.join(ROOT, 'experiments', '*.py'))
            if not p.endswith('report.py')}


def docs_commands():
    """(file, script, its options) of every code span or code line of the docs that runs an
    experiment script (lines joined at a trailing backslash, comments dropped)."""
    found = []
    for name in DOCS:
        text = re.sub(r'\\\n\s*', ' ', open(os.path.join(ROOT, name), encoding='utf-8').read())
        fenced = re.findall(r'^```.*?\n(.*?)^```', text, re.M | re.S)
        text = re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)
        for span in fenced + re.findall(r'`([^`]+)`|^ {4}(.*)$', text, re.M):
            for line in ''.join(span).splitlines():
                line = re.sub(r'\s+#.*', '', line)
                for m in re.finditer(r'([a-z0-9_]+\.py)((?: +[^\s|]+)*)', line):
                    found.append((name, m.group(1), m.group(2).split()))
    return found


def test_docs_commands_use_only_what_their_script_takes():
    """Every option a docs command gives is one of its script's options, every ``--set``
    key one of its settings: a moved option would not run as written."""
    parsers, n, wrong = _parsers(), 0, []
    for name, script, words in docs_commands():
        if script not in parsers:
            continue
        parser, n = parsers[script], n + 1
        for word, following in zip(words, words[1:] + ['']):
            option, _, value = word.partition('=')
            if not word.startswith('--'):
                continue
            if option == '--set':
                key = (value or following).partition('=')[0]
                if '--' + key not in parser.settings._option_string_actions:
                    wrong.append('%s: %s --set %s' % (name, script, key))
            elif option not in parser._option_string_actions:
                wrong.append('%s: %s %s' % (name, script, option))
    assert n > 150 and not wrong, wrong


def test_docs_spell_no_setting_as_an_option():
    """A setting is spelled ``--set KEY=VALUE`` everywhere in the docs."""
    keys = {s for p in _parsers().values() for s in p.settings._option_string_actions}
    spelled = [(name, word) for name in DOCS
               for word in re.findall(r'(?<![\w-])--[a-z][\w-]*',
                                      open(os.path.join(ROOT, name), encoding='utf-8').read())
               if word in keys]
    assert not spelled, spelled
