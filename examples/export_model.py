#!/usr/bin/python3
"""Export a PyTorch model as a TorchScript file for fedactor's `model.kind: torchscript`.

fedactor trains every parameter of the module (in `module.parameters()` order), calls
`forward` with one float32 tensor shaped [batch, *input shape] — [batch, 1, 28, 28] for
fashion_mnist, [batch, features] for vector data — and expects [batch, classes] logits.
Parameters must be float32. The file's own values are the initial global model.

Buffers (`module.named_buffers()`, e.g. BatchNorm's running_mean, running_var and
num_batches_tracked) are federated too: the flat model is the parameters, then every
floating-point buffer (carried as float32) and every int64 `num_batches_tracked` (carried as a
float, averaged like the rest, rounded to the nearest integer when loaded). Any other buffer
(bool, other integers) is not federated: every client starts from the file's value and fedactor
warns about it. BatchNorm/GroupNorm/LayerNorm/InstanceNorm submodules are found by their class
name, for FedBN.

    /usr/bin/python3 examples/export_model.py tiny_mlp OUT.pt       # test fixture (Flatten, 784-16-10)
    /usr/bin/python3 examples/export_model.py cnn OUT.pt            # NIID-Bench's simple CNN
    /usr/bin/python3 examples/export_model.py bn_cnn OUT.pt         # test fixture (conv, BatchNorm2d)
    /usr/bin/python3 examples/export_model.py masked_linear OUT.pt  # test fixture (bool buffer)

Debian: apt-get install python3-torch. Then, in a scenario:

    model:
      kind: torchscript
      path: OUT.pt

The model.pt a run writes is the same module with the trained parameters:
torch.jit.load("model.pt") in Python, torch::jit::load("model.pt") in C++.
"""

import sys

import torch
from torch import nn


class TinyMlp(nn.Module):
    def __init__(self, inputs=784, hidden=16, classes=10):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(inputs, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(self.flatten(x))))


class SimpleCnn(nn.Module):
    """NIID-Bench's SimpleCNNMNIST: the same network as fedactor's `model.kind: cnn`."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class BnCnn(nn.Module):
    """A small CNN with batch normalisation: 1×28×28 → conv 4@3×3 → BatchNorm2d → ReLU →
    max-pool 2 → fc 10. 6818 parameters; buffers bn.running_mean [4], bn.running_var [4],
    bn.num_batches_tracked (int64)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 13 * 13, classes)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


class MaskedLinear(nn.Module):
    """Linear(4, 3) on (x − shift) · mask: a float64 buffer `shift` (federated, carried as
    float32), a bool buffer `mask` and an int32 buffer `calls` that forward counts up and adds to
    the logits (both not federated: fedactor warns, and resets them to the file's values on every
    load, so the logits of a fresh load are W·((x − shift)·mask) + b + 1)."""

    def __init__(self, inputs=4, classes=3):
        super().__init__()
        self.register_buffer("mask", torch.tensor([True, True, False, True]))
        self.register_buffer("shift", torch.full((inputs,), 0.25, dtype=torch.float64))
        self.register_buffer("calls", torch.zeros((), dtype=torch.int32))
        self.fc = nn.Linear(inputs, classes)

    def forward(self, x):
        self.calls += 1
        return self.fc((x - self.shift.float()) * self.mask.float()) + self.calls.float()


MODELS = {"tiny_mlp": TinyMlp, "cnn": SimpleCnn, "bn_cnn": BnCnn, "masked_linear": MaskedLinear}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        sys.exit("usage: export_model.py " + "|".join(MODELS) + " OUT.pt")
    torch.manual_seed(0)
    model = MODELS[sys.argv[1]]()
    scripted = torch.jit.script(model)
    scripted.save(sys.argv[2])
    count = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    print(f"{sys.argv[2]}: {sys.argv[1]}, {count} parameters, {buffers} buffer values")


if __name__ == "__main__":
    main()
