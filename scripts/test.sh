#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian machine.
#
# It installs what the tests need when it is missing (memcached, PostgreSQL,
# MariaDB and Chromium from Debian's packages; staticcheck, at a pinned
# version, from the Go module proxy) and then runs the checks. The tests
# start and stop their own memcached, PostgreSQL and MariaDB servers on
# loopback on free ports, and their own headless Chromium; nothing here
# starts a service. With CI=true a test whose server is missing fails
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v memcached >/dev/null 2>&1 || need+=(memcached)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
{ [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null 2>&1; } || need+=(mariadb-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})); then
  echo "==> installing ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "==> gofmt"
unformatted=$(gofmt -l . | grep -v '^bench/' || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "==> go vet"
go vet ./...

echo "==> go.mod is tidy"
go mod tidy -diff

echo "==> staticcheck"
staticcheck_version=v0.8.2
gobin=$(go env GOPATH)/bin
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "${staticcheck_version#v}"; then
  go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi
"$gobin/staticcheck" ./...

echo "==> the root package and the cgo-free backends build without cgo"
CGO_ENABLED=0 go build . ./backends/cookie ./backends/memcache ./backends/gorm
if go list -deps . ./backends/cookie | grep -E 'gorm|sqlite|memcache|database/sql'; then
  echo "the root package or backends/cookie depends on a database or memcache package"; exit 1
fi

echo "==> go test -race"
go test -race -count=1 -timeout 20m ./...

echo "==> bench module: vet, gofmt and a smoke run of every contender's three requests"
(cd bench && go vet ./... && test -z "$(gofmt -l .)" && go test -count=1 -timeout 5m ./...)
