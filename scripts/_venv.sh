# shellcheck shell=bash
# Sourced by scripts/run and scripts/test: make sure .venv exists and holds the project as
# described by pyproject.toml. Installs only when pyproject.toml changed since the last
# successful install (a copy of it is kept in .venv as the stamp), so later runs are fast.

ensure_venv() {
    local venv=.venv
    local stamp="$venv/.pyproject.toml.installed"
    local py
    if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        echo "evfleet: $venv is broken (its Python does not start); recreating it" >&2
        rm -rf "$venv"
        if [ -e "$venv" ]; then
            echo "evfleet: could not remove the broken $venv" >&2
            return 1
        fi
    fi
    if [ ! -x "$venv/bin/python" ]; then
        py=$(command -v python3.11 || command -v python3 || true)
        if [ -z "$py" ]; then
            echo "evfleet: Python 3.11 or newer is needed (python3.11 or python3 on PATH)" >&2
            return 1
        fi
        if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "evfleet: $py is older than Python 3.11; install Python 3.11 or newer" >&2
            return 1
        fi
        echo "evfleet: creating $venv with $py" >&2
        "$py" -m venv "$venv" || return 1
        rm -f "$stamp"
    fi
    if ! cmp -s pyproject.toml "$stamp"; then
        echo "evfleet: installing the project and its dev tools into $venv (pip install -e '.[dev]')" >&2
        local log
        log=$(mktemp)
        if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -e '.[dev]' >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "evfleet: installing into $venv failed (output above)" >&2
            return 1
        fi
        rm -f "$log"
        cp pyproject.toml "$stamp"
    fi
    # The dashboard (web/, built with npm into src/evfleet/web/static): every time, as the
    # script itself returns at once when the bundle is newer than its sources.
    if [ -f web/package.json ]; then
        if ! command -v npm >/dev/null 2>&1 && [ ! -f src/evfleet/web/static/index.html ]; then
            echo "evfleet: npm is not on PATH, and it is needed to build the dashboard (web/)" >&2
            echo "evfleet: install Node.js 20.19 or newer with npm (e.g. apt-get install nodejs npm)" >&2
            return 1
        fi
        if ! bash scripts/build_web.sh; then
            echo "evfleet: building the dashboard failed (output above); fix it and run scripts/build_web.sh" >&2
            return 1
        fi
    fi
}
