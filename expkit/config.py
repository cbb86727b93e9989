"""The run configuration: what :class:`expkit.Experiment` needs of the command line, read
once from the parsed options (:meth:`RunConfig.from_args`) into one typed record.

The standard options of :func:`expkit.make_parser` are its fields; a script's own options
and settings (``--prior``, ``n-hidden``, ...) are the script's business and reach results.json
only through ``options`` (every parsed option and setting, as given or defaulted).
"""
import dataclasses
import shlex
import sys
from typing import Optional


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One run's standard options. ``script`` and ``argv`` rebuild the command (results.json,
    the resume command); ``options`` is every parsed option, recorded under ``config``."""
    script: str
    argv: tuple = ()
    options: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    out: str = 'result'
    device: str = '@numpy'              # a chainer device spec; --gpu N overrides it
    gpu: Optional[int] = None
    epoch: int = 1
    batchsize: Optional[int] = None
    quick: bool = False
    threads: Optional[int] = None       # BLAS/OpenMP threads; None: every available core
    communicator: Optional[str] = None  # ChainerMN; None: one process
    resume: Optional[str] = None        # a snapshot_*.npz
    time_limit: Optional[float] = None  # minutes
    snapshot_interval: Optional[int] = None   # epochs; None: a quarter of each stage
    dataset: Optional[str] = None
    data_dir: Optional[str] = None
    n_train: Optional[int] = None
    n_test: Optional[int] = None
    validation: Optional[int] = None    # None: validation_default on the official 60,000
    validation_default: int = 0

    @classmethod
    def from_args(cls, args):
        """The config of a namespace parsed by :func:`expkit.make_parser`'s parser (options
        a script's parser lacks keep the defaults above)."""
        given = vars(args)
        own = {f.name for f in dataclasses.fields(cls)} - {'script', 'argv', 'options'}
        return cls(script=given.get('script') or (sys.argv[0] if sys.argv else ''),
                   argv=tuple(given.get('argv') or ()),
                   options={k: v for k, v in given.items() if k not in ('argv', 'script')},
                   **{k: given[k] for k in own if k in given})

    @property
    def command(self):
        """The command that ran, as results.json records it (words a shell would split are
        quoted)."""
        return shlex.join(['python', self.script] + list(self.argv))
