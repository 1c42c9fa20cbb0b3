#!/usr/bin/env bash
# All side-by-side benchmarks in one sitting, for the performance table of
# experiments/RESULTS.md: bash experiments/benchmarks/run_all.sh > OUT.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -m), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for script in solvers_ks_lpsda symmetries_throughput training_step training_scaling; do
    echo "## $script"
    start=$(date +%s)
    "$py" "experiments/benchmarks/$script.py"
    echo "($(($(date +%s) - start)) s)"
done
echo "# done $(date -u '+%H:%M:%S UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
