# Chainer 7.8.1 ships only as an sdist whose build imports pkg_resources, so both the build
# environment and the install need setuptools<74 and numpy<2 (constraints.txt). pip < 25.3
# applies PIP_CONSTRAINT to build environments; pip >= 25.3 needs PIP_BUILD_CONSTRAINT.
PYTHON ?= python
CONSTRAINTS := $(CURDIR)/constraints.txt

.PHONY: install install-gpu test report
install:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test]'

install-gpu:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test,gpu]'

test:
	$(PYTHON) -m pytest -q

report:
	$(PYTHON) experiments/report.py
