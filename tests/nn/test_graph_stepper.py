"""The residual graph stepper: its graph travels as buffers, it starts near persistence,
and it learns to move a field along a ring."""

from __future__ import annotations

import torch

from wxai.nn.graph_stepper import GraphStepper


def test_ring_stepper_shapes_buffers_and_residual_form():
    torch.manual_seed(0)
    stepper = GraphStepper.on_ring(12, hidden=8, layers=2, message_hidden=8)
    assert stepper.edge_index.shape == (2, 24) and stepper.edge_attr.shape == (24, 1)
    assert {"edge_index", "edge_attr"} <= set(stepper.state_dict())
    z = torch.randn(5, 12, 1)
    out = stepper(z)
    assert out.shape == z.shape
    torch.testing.assert_close(out - z, stepper.gnn(z, stepper.edge_index, stepper.edge_attr))
    # With a zero decoder the stepper is exactly persistence.
    torch.nn.init.zeros_(stepper.gnn.decoder.weight)
    torch.nn.init.zeros_(stepper.gnn.decoder.bias)
    torch.testing.assert_close(stepper(z), z)


def test_ring_stepper_learns_a_one_node_shift_better_than_persistence():
    torch.manual_seed(0)
    n = 16
    theta = 2 * torch.pi * torch.arange(n) / n
    phase = 2 * torch.pi * torch.rand(64, 1)
    z = torch.cos(theta + phase).unsqueeze(-1)
    target = torch.roll(z, 1, dims=1)
    stepper = GraphStepper.on_ring(n, hidden=8, layers=1, message_hidden=8)
    optimiser = torch.optim.Adam(stepper.parameters(), lr=1e-2)
    for _ in range(150):
        optimiser.zero_grad()
        loss = torch.mean((stepper(z) - target) ** 2)
        loss.backward()
        optimiser.step()
    persistence = torch.mean((z - target) ** 2)
    assert float(loss.detach()) < 0.1 * float(persistence)
