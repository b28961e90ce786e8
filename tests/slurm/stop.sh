#!/usr/bin/env bash
# Stop the daemons tests/slurm/start.sh started, by the pids it recorded, newest first (a munged
# that was already serving the machine was not recorded and keeps running). The state directory
# (configuration, database) stays for the next start.
set -uo pipefail
STATE=${SLURM_STATE:-/tmp/tradeoffs-slurm}
for name in slurmd slurmctld slurmdbd mariadbd munged; do
    file="$STATE/pids/$name.pid"
    [ -s "$file" ] || continue
    pid=$(cat "$file")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$file"
done
# The configless slurmd's link to its cached configuration, if it points into our state.
link=/run/slurm/conf
if [ -L "$link" ] && [[ "$(readlink "$link")" == "$STATE"/* ]]; then
    rm -f "$link"
fi
