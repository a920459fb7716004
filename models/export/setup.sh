#!/usr/bin/env bash
# Create (idempotently) the export toolchain venv at models/export/.venv.
#
#   bash models/export/setup.sh          # create or bring up to date; a no-op when already current
#
# The venv is made with python3.11 -m venv + pip (not uv: the CPU torch wheel is on pip's path only).
# A stamp file holds the sha256 of requirements.txt; when it matches, nothing is installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "export venv up to date: $venv"
  exit 0
fi

start=$(date +%s)
py="${PYTHON:-python3.11}"
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
# pip's config on these machines names local indexes that may not exist: drop only those warnings.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
# Guard: plain onnxruntime must be the only ORT here, and torch must be the CPU build.
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
names = {d.metadata["Name"].lower() for d in md.distributions()}
assert "onnxruntime-gpu" not in names, "onnxruntime-gpu must not sit next to onnxruntime"
bad = sorted(n for n in names if n.startswith("nvidia-"))
assert not bad, f"CUDA wheels were pulled into the export venv: {bad}"
import torch
assert torch.version.cuda is None, f"expected the CPU torch build, got CUDA {torch.version.cuda}"
print("export venv ok: torch", torch.__version__)
PY
echo "$want" > "$stamp"
echo "export venv ready in $(( $(date +%s) - start )) s: $venv"
