#!/usr/bin/env bash
# npm run test:conformance: the Kubernetes executor's end-to-end tests and the differential API tests against
# a real kube-apiserver (scripts/kube-apiserver.sh) with `floe dev kubelet` attached. Each test file starts
# its own server. When the binary was never built here, says so and exits 0 without running anything.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/kube-apiserver.sh cached >/dev/null; then
  echo "conformance: kube-apiserver v1.20.2 is not built on this machine (cache: ${FLOE_KUBE_CACHE:-/var/cache/floe-kube})."
  echo "conformance: run 'scripts/kube-apiserver.sh build' (20-40 minutes, Debian packages only), then 'npm run test:conformance'. Nothing was run."
  exit 0
fi
export FLOE_K8S_BACKEND=real
# One file at a time: each runs etcd, kube-apiserver, a kubelet and Floe on a 2-core machine.
exec node --import tsx --test --test-force-exit --test-concurrency=1 --test-timeout=300000 \
  test/conformance/*.test.ts \
  test/kubernetes/executor/e2e.test.ts \
  test/kubernetes/executor/failure-events.test.ts \
  test/kubernetes/executor/adoption.test.ts \
  "$@"
