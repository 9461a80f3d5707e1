"""CatsVsDogs: standalone PyTorch source written by `archlang compile` from cats_vs_dogs.arch.

Model parameters: classes=2.
93,506 parameters. Shapes (`B` is the batch):
    in   image: [B, 3, 128, 128]
    out  output: [B, 2]

It needs only torch. Its state_dict keys are the spec's names, so the weights of
`archlang compile ... -o model.pt` load with `load_state_dict(..., strict=True)`.
"""

import torch
from torch import nn


class CatsVsDogs(nn.Sequential):
    """CatsVsDogs of cats_vs_dogs.arch; new weights, or trained ones through `load_state_dict`."""

    def __init__(self) -> None:
        super().__init__()
        self.append(nn.Conv2d(3, 32, kernel_size=3, padding=1))
        self.append(nn.ReLU(inplace=True))
        self.append(nn.MaxPool2d(2, stride=2))
        self.append(nn.Conv2d(32, 64, kernel_size=3, padding=1))
        self.append(nn.ReLU(inplace=True))
        self.append(nn.MaxPool2d(2, stride=2))
        self.append(nn.Conv2d(64, 128, kernel_size=3, padding=1))
        self.append(nn.ReLU(inplace=True))
        self.append(nn.MaxPool2d(2, stride=2))
        self.append(nn.AdaptiveAvgPool2d(1))
        self.append(nn.Flatten())
        self.append(nn.Linear(128, 2))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        conv_0 = self[0](image)  # [B, 32, 128, 128]
        relu_1 = self[1](conv_0)  # [B, 32, 128, 128]
        maxpool_2 = self[2](relu_1)  # [B, 32, 64, 64]  edges
        conv_3 = self[3](maxpool_2)  # [B, 64, 64, 64]
        relu_4 = self[4](conv_3)  # [B, 64, 64, 64]
        maxpool_5 = self[5](relu_4)  # [B, 64, 32, 32]  shapes
        conv_6 = self[6](maxpool_5)  # [B, 128, 32, 32]
        relu_7 = self[7](conv_6)  # [B, 128, 32, 32]
        maxpool_8 = self[8](relu_7)  # [B, 128, 16, 16]  parts of objects
        global_avgpool_9 = self[9](maxpool_8)  # [B, 128, 1, 1]
        flatten_10 = self[10](global_avgpool_9)  # [B, 128]
        linear_11 = self[11](flatten_10)  # [B, 2]  cat vs dog

        return linear_11
