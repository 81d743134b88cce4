#!/bin/bash
# Train a graph emulator on a PBS Pro cluster: 2 nodes x 4 GPUs.
# PBS has no launcher Lightning recognises, so torchrun starts one process per GPU on each
# node (through pbsdsh) and Lightning picks up torchrun's environment (RANK, WORLD_SIZE, ...).
#
#   qsub -v ARGS="dataset.path=/scratch/hs-year.zarr graph.path=graph.pt" deploy/hpc/emulator-pbs.sh
#
#PBS -N wxai-emulator
#PBS -l select=2:ncpus=32:ngpus=4:mpiprocs=1
#PBS -l walltime=04:00:00
#PBS -j oe
set -euo pipefail
cd "${PBS_O_WORKDIR:-$PWD}"

WXAI_VENV=${WXAI_VENV:-$PWD/.venv}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
mapfile -t NODES < <(sort -u "$PBS_NODEFILE")
MASTER_ADDR=${NODES[0]}
MASTER_PORT=${MASTER_PORT:-29500}
RUN_ID=${PBS_JOBID%%.*}
export WXAI_TRACKING_URI=${WXAI_TRACKING_URI:-sqlite:///$PWD/mlruns.db}

for rank in "${!NODES[@]}"; do
  # shellcheck disable=SC2086 # ARGS holds several overrides on purpose
  pbsdsh -n "$rank" -- bash -lc "cd '$PWD' && OMP_NUM_THREADS=8 '$WXAI_VENV/bin/torchrun' \
    --nnodes=${#NODES[@]} --node-rank=$rank --nproc-per-node=$GPUS_PER_NODE \
    --master-addr=$MASTER_ADDR --master-port=$MASTER_PORT --no-python \
    '$WXAI_VENV/bin/wxai' emulator train preset=full \
    trainer.accelerator=gpu trainer.strategy=ddp trainer.devices=$GPUS_PER_NODE \
    trainer.num_nodes=${#NODES[@]} trainer.precision=bf16-mixed trainer.enable_progress_bar=false \
    output_dir=runs/$RUN_ID ${ARGS:-}" &
done
wait
