"""expkit.show_datasets draws the priors, toy data and MNIST as loaded into one PNG."""
import os

import pytest


@pytest.mark.slow
def test_show_datasets_writes_the_figure(tmp_path):
    pytest.importorskip('mlxtend')
    from expkit import show_datasets
    out = tmp_path / 'samplers.png'
    show_datasets.main([str(out)])
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert os.path.getsize(out) > 20000          # twelve panels, not an empty canvas
