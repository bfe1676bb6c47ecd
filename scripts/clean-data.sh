#!/usr/bin/env bash
# `make clean-data`: deletes ./data/ (Redis and MariaDB data, logs, JWT secret),
# refusing while a `make run` uses it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

main() {
    [ -d data ] || {
        log "nothing to clean: ./data does not exist"
        return 0
    }
    if [ -f data/.run.lock ] && ! flock -n data/.run.lock true; then
        die "'make run' is using ./data; stop it first (Ctrl-C)"
    fi
    rm -rf -- ./data
    log "removed ./data"
}

main "$@"
