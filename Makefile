# Chainer 7.8.1 ships only as an sdist whose build imports pkg_resources, so its build
# environment needs setuptools<74 (constraints.txt). pip < 25.3 applies PIP_CONSTRAINT to
# build environments; pip >= 25.3 needs PIP_BUILD_CONSTRAINT. setup.py picks NumPy (and, for
# install-gpu, CuPy) per interpreter with environment markers.
PYTHON ?= python
CONSTRAINTS := $(CURDIR)/constraints.txt

.PHONY: install install-gpu install-mpi test report
install:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test]'

install-gpu:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test,gpu]'

# --communicator (ChainerMN): mpi4py and Open MPI wheels from PyPI (docs/distributed.md)
install-mpi:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test,mpi]'

test:
	$(PYTHON) -m pytest -q

report:
	$(PYTHON) experiments/report.py
