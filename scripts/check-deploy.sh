#!/usr/bin/env bash
# Renders the Kubernetes manifests (deploy/kubernetes) with kustomize and
# validates every object against the Kubernetes schemas (kubernetes-validate
# from PyPI, in a virtual environment of its own), so that a broken manifest
# fails the tests. Installs kubectl (Debian's kubernetes-client) and
# python3-venv when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[deploy] %s\n' "$*" >&2; }
K8S_VERSION=1.30.0
need=()
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
python3 -c "import ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  bash scripts/setup.sh "${need[@]}"
fi
venv="${XDG_CACHE_HOME:-$HOME/.cache}/avmonitor/venv"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  say "installing kubernetes-validate into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet kubernetes-validate
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kubectl kustomize deploy/kubernetes > "$out/all.yaml"
"$venv/bin/kubernetes-validate" --strict --kubernetes-version "$K8S_VERSION" "$out/all.yaml"
say "deploy/kubernetes renders and validates against Kubernetes $K8S_VERSION"
