#!/usr/bin/env bash
# Installs what kiteq-ts and its tests need on a fresh Debian machine, then compiles.
#   bash build.sh              install system packages if missing, npm ci, compile
#   bash build.sh --no-install compile only
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if [ "${1:-}" != "--no-install" ]; then
  # ZooKeeper for the zk:// registry tests (design §11): Debian's package, run by the tests themselves.
  if [ ! -f /usr/share/java/zookeeper.jar ]; then apt_install zookeeper; fi
  if ! command -v java >/dev/null; then apt_install default-jre-headless; fi
  # MariaDB for the mysql:// store tests.
  if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then apt_install mariadb-server; fi
  if ! mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1; then
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 60); do mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  # RabbitMQ and NATS JetStream: the peers of `kiteq-bench compare` and its tests.
  port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  if ! port_open 5672; then
    command -v rabbitmq-server >/dev/null || [ -x /usr/sbin/rabbitmq-server ] || apt_install rabbitmq-server
    as_root rabbitmq-server -detached >/dev/null 2>&1 || true
    for _ in $(seq 1 120); do port_open 5672 && break; sleep 0.5; done
  fi
  if ! port_open 4222; then
    command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || apt_install nats-server
    as_root mkdir -p /var/lib/nats-server
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    for _ in $(seq 1 40); do port_open 4222 && break; sleep 0.25; done
  fi
  # Debian's chromium for the web console's browser test (test/console.spec.ts drives /usr/bin/chromium with
  # playwright-core; nothing downloads a browser).
  if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund; fi
fi

# protocol/kiteq.proto -> static protobufjs code: the reference the tests check the hand-written codecs against.
rm -rf protocol/generated # an older build's output there would be compiled into dist/protocol and packed
mkdir -p test/support/generated
if [ ! -f test/support/generated/kiteq.js ] || [ protocol/kiteq.proto -nt test/support/generated/kiteq.js ]; then
  npx pbjs -t static-module -w commonjs --force-number --no-verify --no-convert --no-delimited \
    -o test/support/generated/kiteq.js protocol/kiteq.proto
  npx pbts -o test/support/generated/kiteq.d.ts test/support/generated/kiteq.js
fi
rm -rf dist
npx tsc -p tsconfig.json
# The web console (doc/console.md): type-checked apart (browser code, DOM types), bundled by esbuild into
# dist/console, which the package ships and the admin server serves.
npx tsc -p console/tsconfig.json
node console/build.mjs
chmod +x dist/server/cli.js dist/bench/cli.js 2>/dev/null || true
