"""The settings of a command line: keys of ``--set KEY=VALUE``, not options of their own.

A setting (:meth:`SettingsMixin.add_setting`) is what the recipes set and what an ablation
changes (optimiser, noise, widths): ``--set dis-noise=0.3``; a switch: ``--set batch-norm``; a
list: comma-separated. Each is declared and checked like an option (``type=``, ``choices``,
``action``) on a parser of its own (:class:`Settings`), parsed from the words that ``--set``
becomes, and lands in ``args`` as an option would. :class:`expkit.cli.OneLineParser` mixes
this machinery in; --help lists the settings last, under :data:`SETTINGS_TITLE`.
"""
import argparse
import copy

#: the --help title of the settings
SETTINGS_TITLE = 'settings (--set KEY=VALUE; the recipes set these; change one for an ablation)'


class SettingError(Exception):
    """A bad ``--set`` value, reported by the command line's parser as one line."""


class Settings(argparse.ArgumentParser):
    """The keys of ``--set``, each declared as an option (``--dis-noise``) and parsed from the
    words that ``--set dis-noise=VALUE`` becomes (``--dis-noise=VALUE``)."""

    def __init__(self):
        super().__init__(add_help=False, allow_abbrev=False)

    def error(self, message):      # OneLineParser reports it, naming the key as --set spells it
        raise SettingError(message.replace('argument --', 'argument --set '))


class SetWord:
    """The type of ``--set``: ``KEY=VALUE`` (a switch: ``KEY``) with a declared key, turned
    into the words of the settings parser; a list value is comma-separated."""
    __name__ = 'setting'

    def __init__(self, settings):
        self.settings = settings

    def __call__(self, text):
        key, eq, value = text.partition('=')
        action = self.settings._option_string_actions.get('--' + key)
        if action is None:
            raise argparse.ArgumentTypeError('no setting %r; pass KEY=VALUE with KEY one of %s'
                                             % (key, ', '.join(keys(self.settings))))
        if action.nargs == 0:
            if eq:
                raise argparse.ArgumentTypeError('%s is a switch; pass --set %s, without a '
                                                 'value' % (key, key))
            return ['--' + key]
        if not eq:
            raise argparse.ArgumentTypeError('%s needs a value; pass --set %s' % (
                key, as_key(action).option_strings[0]))
        if action.nargs in ('+', '*'):
            return ['--' + key] + value.split(',')
        return ['--%s=%s' % (key, value)]

    def cases(self, tmp_path=None):
        """``(text, accepted)`` pairs for the test matrix; each key has its own."""
        return [('no-such-key=1', False), ('', False), ('=1', False), ('=', False)]


def keys(settings):
    """The keys of the settings parser ``settings``, as ``--set`` spells them."""
    return [s[2:] for a in settings._actions for s in a.option_strings]


def as_key(action):
    """A copy of a setting's action that --help shows as ``key=VALUE`` (a switch: ``key``)."""
    shown = copy.copy(action)
    names = [s[2:] for s in action.option_strings]
    if action.nargs != 0:
        value = action.metavar or ('{%s}' % ','.join(map(str, action.choices))
                                   if action.choices is not None else action.dest.upper())
        names = ['%s=%s%s' % (names[0], value, ',...' if action.nargs in ('+', '*') else '')]
    shown.option_strings, shown.nargs = names, 0
    return shown


class SettingsMixin:
    """The settings half of :class:`expkit.cli.OneLineParser` (an ``argparse.ArgumentParser``
    with ``self.settings = Settings()`` and ``self.more``, the group ``--set`` goes in)."""

    def add_setting(self, *flags, **kwargs):
        """A setting: not an option of its own but a key of ``--set KEY=VALUE`` (a flag
        without its dashes: ``--set dis-noise=0.3``; a switch: ``--set batch-norm``), for
        what the recipes set and what an ablation changes. Declared as with
        ``add_argument`` (``type=``, ``choices``, ``action``), checked the same way, and
        parsed into ``args`` as an option would be. Settings that exclude each other:
        ``parser.settings.add_mutually_exclusive_group()``."""
        return self.settings.add_argument(*flags, **kwargs)

    def setting_hint(self, message):
        """``message`` with, if it refuses a setting given as an option, how to give it."""
        moved = [w.split('=')[0] for w in message.split()
                 if w.split('=')[0] in self.settings._option_string_actions]
        if message.startswith('unrecognized arguments') and moved:
            message += '; %s is a setting: pass --set %s' % (
                moved[0], as_key(self.settings._option_string_actions[moved[0]])
                .option_strings[0])
        return message

    def spell(self, dest, value):
        """How a command line gives ``dest`` the value ``value`` (``--n-train 1000``, or
        ``--set n-hidden=64`` for a setting)."""
        action = self.action(dest)
        text = ','.join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
        if action in self.settings._actions:
            return '--set %s=%s' % (action.option_strings[0][2:], text)
        return '%s %s' % (action.option_strings[-1], text.replace(',', ' ')
                          if isinstance(value, list) else text)

    def given(self, argv):
        """The dests that ``argv`` gives explicitly: its options' and its settings'."""
        dests = set()
        for word, following in zip(argv, list(argv[1:]) + ['']):
            name, _, value = word.partition('=')
            if name == '--set':
                key = (value or following).partition('=')[0]
                dests.add(self.settings._option_string_actions['--' + key].dest)
            elif name in self._option_string_actions:
                dests.add(self._option_string_actions[name].dest)
        return dests

    def respell(self, argv):
        """``argv`` (e.g. a recorded command's) with each option that is now a setting given
        as ``--set KEY=VALUE`` (a switch: ``--set KEY``; a list: comma-separated)."""
        out, words = [], list(argv)
        while words:
            word = words.pop(0)
            name, eq, value = word.partition('=')
            action = self.settings._option_string_actions.get(name)
            if action is None:
                out.append(word)
                continue
            values = [value] if eq else []
            while (action.nargs != 0 and words and not words[0].startswith('--') and
                   (not values or action.nargs in ('+', '*'))):
                values.append(words.pop(0))
            out += ['--set', name[2:] + ('=' + ','.join(values) if action.nargs != 0 else '')]
        return out

    def _add_set_option(self):
        if self.settings._actions and '--set' not in self._option_string_actions:
            self.more.add_argument(
                '--set', type=SetWord(self.settings), action='append', dest='set_words',
                metavar='KEY=VALUE', help='change one of the settings listed below (several: '
                                          'one --set each); explicit settings win over --recipe')

    def settings_help(self):
        """The --help section of the settings ('' without any)."""
        if not self.settings._actions:
            return ''
        formatter = self._get_formatter()
        formatter.start_section(SETTINGS_TITLE)
        formatter.add_arguments([as_key(a) for a in self.settings._actions])
        formatter.end_section()
        return '\n' + formatter.format_help()

    def _parse(self, argv, namespace):
        """The options, then the settings that ``--set`` gives, into one namespace."""
        ns = super().parse_args(argv, namespace)
        words = [w for given in (vars(ns).pop('set_words', None) or []) for w in given]
        try:
            return self.settings.parse_args(words, ns)
        except SettingError as exc:
            self.error(str(exc))
