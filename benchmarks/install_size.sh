#!/usr/bin/env bash
# Size on disk of firth's torch-free runtime install against the full one, each in a fresh venv
# (pinned by requirements.lock), and, given an exported model directory, a prediction made in the
# runtime venv, where torch and scikit-learn are not installed at all.
#   bash benchmarks/install_size.sh [EXPORTED_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
size() { du -sm "$1"/lib/python3*/site-packages | cut -f1; }
python3 -m venv "$work/empty"
for extra in runtime all; do
    python3 -m venv "$work/$extra"
    "$work/$extra/bin/pip" install -q --disable-pip-version-check "$repo[$extra]" -c "$repo/requirements.lock" 2>/dev/null
    echo "firth[$extra]: $(( $(size "$work/$extra") - $(size "$work/empty") )) MB beyond an empty venv," \
         "$("$work/$extra/bin/pip" list 2>/dev/null | tail -n +3 | grep -vc '^pip \|^setuptools ') packages"
done
if [ $# -ge 1 ]; then
    "$work/runtime/bin/python" -c "import sys, firth.runtime
model = firth.runtime.load(sys.argv[1])
print('runtime venv predicts', model.predict(['Shares rose after profits jumped']).tolist(),
      'with torch loaded:', 'torch' in sys.modules)
import importlib.util; print('torch installed:', importlib.util.find_spec('torch') is not None)" "$1"
fi
