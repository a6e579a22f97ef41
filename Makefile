# The verbs people type. Everything runs in a project-local virtual environment.
#   make lab    set up, prepare the data and open the course in JupyterLab
#   make test   set up with the test tools and run the whole suite (what CI runs)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# e.g. make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
# The environment's tools come first (nbgrader runs `alembic`, kernels run `python`).
export PATH := $(abspath $(BIN)):$(PATH)
# JupyterLab refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test lint data figures expected release autograde pretrain bench bench-assignment bench-data bench-grading bench-realism bench-suite graphviz cjk-font chromium clean

# JupyterLab opens on the assignment's folder, with the course's settings (no news prompt), in
# English or, with `make lab LANGUAGE=zh_CN` (or ko_KR), on that edition with JupyterLab's menus in
# that language. Only a LANGUAGE given on the command line counts: gettext's own $LANGUAGE
# (often "en_US:en") must not switch the course.
EDITION_LANGUAGE := $(if $(filter command line,$(origin LANGUAGE)),$(LANGUAGE),en)
EDITION := residual_networks$(if $(filter-out en,$(EDITION_LANGUAGE)),_$(EDITION_LANGUAGE))
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
lab: $(VENV)/.installed $(if $(filter-out en,$(EDITION_LANGUAGE)),$(VENV)/.installed-$(EDITION_LANGUAGE)) graphviz cjk-font data
	@test -d assignments/$(EDITION) || { echo "no edition in LANGUAGE=$(EDITION_LANGUAGE): choose en, zh_CN or ko_KR"; exit 2; }
	$(BIN)/python scripts/lab_settings.py $(EDITION_LANGUAGE) $(LAB_SETTINGS)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/assignments/$(EDITION)/Residual_Networks.ipynb \
	  $(ROOT_FLAG) $(LAB_ARGS)

test: $(VENV)/.installed-test graphviz cjk-font chromium lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check resnets_utils tests scripts benchmarks course/source
	$(BIN)/ruff format --check resnets_utils tests scripts benchmarks

data: $(VENV)/.installed
	$(BIN)/python -m resnets_utils.data

# Expected results of the checks, from the master notebook's reference solution.
expected: $(VENV)/.installed
	$(BIN)/python scripts/make_expected.py

# assignments/ and solutions/ from course/source (executes the solutions: a few minutes).
release: $(VENV)/.installed graphviz cjk-font
	$(BIN)/python scripts/release.py

# Grade course/submitted/*/residual_networks in parallel: gradebook, feedback, course/grades.csv.
# e.g. make autograde GRADE_ARGS="--workers 4 --force"
GRADE_ARGS ?=
autograde: $(VENV)/.installed
	$(BIN)/python -m resnets_utils.autograde residual_networks --course course $(GRADE_ARGS)

figures: $(VENV)/.installed
	$(BIN)/python scripts/make_figures.py

# Train the reference ResNet-50 into the user's cache (resumes after an interruption).
# e.g. make pretrain PRETRAIN_ARGS="--restart"
PRETRAIN_ARGS ?=
pretrain: $(VENV)/.installed data
	$(BIN)/python -m resnets_utils.training.pretrain $(PRETRAIN_ARGS)

# Figures, not tests: each benchmark prints a small table and logs it in docs/performance.md (about 20 minutes).
bench: $(VENV)/.installed graphviz data bench-data
	$(BIN)/python benchmarks/training_speed.py
	$(BIN)/python benchmarks/grading.py
	$(BIN)/python benchmarks/warm_worker.py
	$(BIN)/python benchmarks/degradation.py

# The training cell's recipe and its variants (precision, camera changes, fresh pictures, epochs; about 30 minutes).
bench-assignment: $(VENV)/.installed data
	$(BIN)/python benchmarks/recipe_trials.py

# 30 submissions graded by serial nbgrader, resnets-grade cold, warm and on Dask (about 10 minutes on 2 cores),
# then the feedback pages of a second run (every page again, as before, against the changed ones).
bench-grading: $(VENV)/.installed-cluster
	$(BIN)/python benchmarks/grading_parallel.py
	$(BIN)/python benchmarks/feedback_rerun.py

# The make pretrain model on real SIGNS photos in ../shared/real_signs (skips without them).
# e.g. make bench-realism REALISM_ARGS=--quick   (a small CNN trained for 2 minutes instead)
REALISM_ARGS ?=
bench-realism: $(VENV)/.installed
	$(BIN)/python benchmarks/realism.py $(REALISM_ARGS)

# Where the test suite's CPU goes, test file by test file (as long as `make test`; run it alone).
bench-suite: $(VENV)/.installed-test graphviz cjk-font chromium
	$(BIN)/python benchmarks/suite_cost.py

bench-data: $(VENV)/.installed
	$(BIN)/python benchmarks/data_generation.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when the package's requirements change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,cluster,zh_CN,ko_KR]"
	touch $@ $(VENV)/.installed $(VENV)/.installed-zh_CN $(VENV)/.installed-ko_KR

# JupyterLab's language pack for LANGUAGE, the extra of that name (make lab LANGUAGE=zh_CN).
$(VENV)/.installed-zh_CN $(VENV)/.installed-ko_KR: $(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-cluster: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[cluster]"
	touch $@ $(VENV)/.installed

# System programs and fonts: installed with apt when missing and we are root, else one line on how.
# $(call system_package,SHELL TEST THAT IT IS THERE,DEBIAN PACKAGE,HINT)
define system_package
	@$(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "$(3)"; \
	  fi; }
endef
GRAPHVIZ_HINT := Graphviz 'dot' is missing (it draws the course's diagrams): run 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) or 'conda install -c conda-forge graphviz'.
CHROMIUM_HINT := Chromium is missing (the browser test is skipped without it): run 'sudo apt-get install chromium', or set CHROMIUM to a Chromium binary.

graphviz:
	$(call system_package,command -v dot,graphviz,$(GRAPHVIZ_HINT))

# Figures in the Chinese and Korean editions need a font with Han and Hangul (else boxes).
CJK_FONT_HINT := No font with Chinese and Korean characters: run 'sudo apt-get install fonts-wqy-microhei' (Debian/Ubuntu) or 'conda install -c conda-forge font-ttf-noto-cjk'.
cjk-font:
	$(call system_package,fc-list :lang=zh-cn:lang=ko | grep -q .,fonts-wqy-microhei,$(CJK_FONT_HINT))

# The JupyterLab browser test drives Debian's Chromium; no browser is ever downloaded.
chromium:
	$(call system_package,command -v chromium,chromium,$(CHROMIUM_HINT))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
