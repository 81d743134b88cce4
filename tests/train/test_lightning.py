"""The Lightning adapter trains a plain nn.Module and records one loss per epoch."""

from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from wxai.train.lightning import LightningRegressor, fit_lightning


class _NodeLinear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, data: Data) -> torch.Tensor:
        return self.linear(data.x).squeeze(-1)


def test_regressor_learns_a_linear_map_on_graph_batches(tmp_path):
    torch.manual_seed(0)
    graphs = []
    for _ in range(32):
        x = torch.randn(5, 1)
        graphs.append(Data(x=x, y=(2 * x - 1).squeeze(-1), num_nodes=5))
    seen: list[tuple[int, float]] = []
    module = LightningRegressor(_NodeLinear(), lr=0.05, on_epoch=lambda e, v: seen.append((e, v)))
    loader = DataLoader(graphs, batch_size=8, shuffle=True)
    trained = fit_lightning(module, loader, epochs=30, root_dir=tmp_path)
    assert trained is module and not module.training
    assert next(module.parameters()).device.type == "cpu"
    assert len(module.epoch_losses) == 30 and [e for e, _ in seen] == list(range(30))
    assert module.epoch_losses[-1] < 0.05 * module.epoch_losses[0]
    weight = float(module.model.linear.weight)
    assert abs(weight - 2) < 0.1
    torch.testing.assert_close(module(graphs[0]), module.model(graphs[0]))
