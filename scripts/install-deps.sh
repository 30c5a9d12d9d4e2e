#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing deliverd
# uses, plus any package named on the command line (scripts/bazel.sh adds
# Bazel's). Safe to run repeatedly: it only calls apt-get when something is
# missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  procps python3
  # libraries
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev
  protobuf-compiler libabsl-dev libc-ares-dev libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev libgmime-3.0-dev libglib2.0-dev
  libcurl4-openssl-dev libpsl-dev libidn2-dev
  # MySQL Connector/C++ 1.1 (its headers include Boost's)
  libmysqlcppconn-dev libboost-dev
  # bench/smtp_client_bench compares our SMTP client with libESMTP
  libesmtp-dev
  # test peers: knot is the authoritative DNS server the DNS tests start;
  # postfix provides smtp-sink (and smtp-source for bench/), the SMTP peer
  # the relay tests start (postfix itself is never started by the tests)
  knot postfix
  # MariaDB: the tests start a throwaway mariadbd for the MySQL store
  # (scripts/mariadb-test-server.sh); never started as a service
  mariadb-server mariadb-client
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
