#!/usr/bin/python3
"""Export a PyTorch model as a TorchScript file for fedactor's `model.kind: torchscript`.

fedactor trains and federates every parameter of the module (in `module.parameters()`
order), calls `forward` with one float32 tensor shaped [batch, *input shape] — [batch, 1, 28, 28]
for fashion_mnist, [batch, features] for vector data — and expects [batch, classes] logits.
Parameters must be float32. The file's own parameter values are the initial global model.

    /usr/bin/python3 examples/export_model.py tiny_mlp OUT.pt     # the test fixture (Flatten, 784-16-10)
    /usr/bin/python3 examples/export_model.py cnn OUT.pt          # NIID-Bench's simple CNN

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


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("tiny_mlp", "cnn"):
        sys.exit("usage: export_model.py tiny_mlp|cnn OUT.pt")
    torch.manual_seed(0)
    model = TinyMlp() if sys.argv[1] == "tiny_mlp" else SimpleCnn()
    scripted = torch.jit.script(model)
    scripted.save(sys.argv[2])
    count = sum(p.numel() for p in model.parameters())
    print(f"{sys.argv[2]}: {sys.argv[1]}, {count} parameters")


if __name__ == "__main__":
    main()
