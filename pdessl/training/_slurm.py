"""Submitting a multi-node pretraining run to SLURM (submitit, optional).

One job of `nodes x gpus_per_node` tasks, one task per GPU; every task runs the same
`pretrain` as one `jax.distributed` process. Under SLURM (tasks started by `srun`)
`jax.distributed.initialize()` finds the coordinator, process count and id itself;
submitit's local executor (for tests) sets no SLURM variables, so there the tasks are
given a localhost coordinator explicitly (FIELD-NOTES).
"""

from pathlib import Path


def slurm_parameters(
    nodes: int, gpus_per_node: int, *, timeout_min: int, partition: str | None
) -> dict:
    """submitit executor parameters for one task per GPU."""
    if nodes < 1 or gpus_per_node < 1:
        raise ValueError(
            f"--slurm needs NODES/GPUS >= 1/1, got {nodes}/{gpus_per_node}."
        )
    params = dict(
        nodes=nodes,
        tasks_per_node=gpus_per_node,
        gpus_per_node=gpus_per_node,
        timeout_min=timeout_min,
    )
    if partition:
        params["slurm_partition"] = partition
    return params


def _run_task(config_ref: str, workdir: str, data, overrides: dict, local_port):
    # Runs in each task: only picklable arguments, imports inside.
    import jax
    import submitit

    env = submitit.JobEnvironment()
    if env.num_tasks > 1:
        if local_port is None:
            jax.distributed.initialize()
        else:
            jax.distributed.initialize(
                coordinator_address=f"127.0.0.1:{local_port}",
                num_processes=env.num_tasks,
                process_id=env.global_rank,
            )
    from pdessl.training import load_config, pretrain

    return pretrain(load_config(config_ref, **overrides), workdir, data=data)


def submit_pretraining(
    config_ref: str,
    workdir: str | Path,
    *,
    data: str | Path | None,
    overrides: dict,
    folder: str | Path,
    parameters: dict,
    cluster: str | None = None,
):
    """Submit the run; returns the submitit job (`job.result()` is the last metrics
    of process 0). Resubmitting the same command resumes from the workdir's last
    checkpoint. `cluster="local"` runs the tasks as local processes."""
    try:
        import submitit
    except ImportError:
        raise ImportError(
            "--slurm needs submitit: pip install 'pdessl[cluster]'"
        ) from None
    local_port = None
    if cluster == "local":
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            local_port = s.getsockname()[1]
        parameters = {k: v for k, v in parameters.items() if k != "nodes"}
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    executor.update_parameters(**parameters)
    return executor.submit(
        _run_task,
        config_ref,
        str(Path(workdir).resolve()),
        None if data is None else str(Path(data).resolve()),
        overrides,
        local_port,
    )
