#!/bin/bash
# Train a graph emulator on a SLURM cluster: 2 nodes x 4 GPUs, one task per GPU.
# Lightning reads SLURM's variables (SLURM_NTASKS, SLURM_PROCID, ...) and sets up DDP itself;
# nothing in the config changes between a laptop run and this one except trainer.*.
#
#   sbatch deploy/hpc/emulator-slurm.sh dataset.path=/scratch/hs-year.zarr graph.path=graph.pt
#
#SBATCH --job-name=wxai-emulator
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=wxai-emulator-%j.log
set -euo pipefail

# The venv made by `make install-dev` (or the Apptainer image of deploy/) on a shared file system.
WXAI_VENV=${WXAI_VENV:-$PWD/.venv}
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
# MLflow: point every job at one tracking server or a shared sqlite file.
export WXAI_TRACKING_URI=${WXAI_TRACKING_URI:-sqlite:///$PWD/mlruns.db}

srun "$WXAI_VENV/bin/wxai" emulator train preset=full \
  trainer.accelerator=gpu trainer.strategy=ddp \
  trainer.devices="$SLURM_NTASKS_PER_NODE" trainer.num_nodes="$SLURM_JOB_NUM_NODES" \
  trainer.precision=bf16-mixed trainer.enable_progress_bar=false \
  output_dir="runs/$SLURM_JOB_ID" "$@"
