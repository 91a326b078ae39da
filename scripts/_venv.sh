# Sourced by the scripts: make .venv with the locked runtime set (requirements.lock), the project
# and its dev and postgresql extras, from a bare machine. Re-runs are cheap: pip is asked again
# only when pyproject.toml, requirements.lock or EXTRAS changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "offboard needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
EXTRAS="dev,postgresql"  # postgresql: the driver for the store tests on a real PostgreSQL
stamp="$VENV/.installed-$({ cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock"; echo "$EXTRAS"; } \
  | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> installing offboard and its dev tools into $VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  # The runtime set exactly as locked, each file checked against its hash; then the project
  # and its dev tools, which leave the locked packages as they are.
  "$VENV/bin/python" -m pip install --quiet --require-hashes -r "$ROOT/requirements.lock"
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$EXTRAS]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
