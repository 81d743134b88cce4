"""Input gradients match the analytic derivative of simple models."""

from __future__ import annotations

import torch
from torch import nn

from wxai.nn.attribution import input_gradient
from wxai.nn.mlp import MLP


def test_gradient_of_a_linear_logit_through_a_sigmoid_is_analytic():
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[2.0, -1.0]]))
        model.bias.fill_(0.5)
    x = torch.tensor([[0.0, 0.0], [1.0, 3.0], [-2.0, 0.5]])
    p = torch.sigmoid(model(x))
    expected = p * (1 - p) * torch.tensor([[2.0, -1.0]])
    torch.testing.assert_close(input_gradient(model, x, torch.sigmoid), expected)
    # Without a link the gradient of a linear map is its weight row, everywhere.
    torch.testing.assert_close(input_gradient(model, x), torch.tensor([[2.0, -1.0]]).expand(3, 2))


def test_each_row_is_the_gradient_of_its_own_sample_and_x_is_untouched():
    torch.manual_seed(0)
    model = MLP(3, 1, [8], act="tanh").eval()
    x = torch.randn(4, 3)
    before = x.clone()
    grads = input_gradient(model, x)
    for i in range(4):
        xi = x[i : i + 1].clone().requires_grad_(True)
        model(xi).sum().backward()
        torch.testing.assert_close(grads[i], xi.grad[0])
    assert torch.equal(x, before) and not x.requires_grad
    assert all(p.grad is None or p.grad.abs().sum() > 0 for p in model.parameters())
