#!/usr/bin/env bash
# All side-by-side benchmarks in one sitting, for the performance table of
# experiments/RESULTS.md: bash experiments/benchmarks/run_all.sh > OUT.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -m), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in solvers_ks_lpsda solvers_ns solvers_combined symmetries_throughput \
    training_step "training_step --single-thread" training_scaling; do
    echo "## $run"
    start=$(date +%s)
    # shellcheck disable=SC2086  # the script name and its flags are separate words
    set -- $run; script=$1; shift
    "$py" "experiments/benchmarks/$script.py" "$@"
    echo "($(($(date +%s) - start)) s)"
done
echo "# done $(date -u '+%H:%M:%S UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
