#!/usr/bin/env bash
# `make build`: installs what is missing, then `swift build -c release`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

build_release
