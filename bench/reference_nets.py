"""Plain-torch reference networks the benchmarks build beside archlang's: what a user writes by hand.

Shared by bench/check_speed.py and bench/build_speed.py. torchvision cannot be installed beside this
torch, so ResNet-50 and ViT-B/16 are written out here with torchvision's structure and names (a
state_dict moves between these and the built specs).

By default every module keeps the initialisation its torch constructor gives it, as archlang's built
modules do: like with like. `torchvision_init=True` adds the loop torchvision's own constructors run
afterwards (ResNet: kaiming-normal convolutions; ViT: truncated-normal patch projection, xavier MLPs,
zero head), which draws most weights a second time: that is what `torchvision.models.resnet50()` and
`vit_b_16()` cost.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn


class Bottleneck(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                           if stride != 1 or cin != out else None)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet50(nn.Module):
    def __init__(self, classes: int = 1000, torchvision_init: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (planes, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), 1):
            layer = []
            for j in range(blocks):
                layer.append(Bottleneck(cin, planes, stride if j == 0 else 1))
                cin = planes * 4
            setattr(self, f"layer{i}", nn.Sequential(*layer))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, classes)
        if torchvision_init:  # torchvision.models.ResNet.__init__'s loop
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class EncoderBlock(nn.Module):
    def __init__(self, heads: int, hidden: int, mlp: int, torchvision_init: bool = False):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden, mlp), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp, hidden),
                                 nn.Dropout(0.0))
        if torchvision_init:  # torchvision's MLPBlock
            for m in self.mlp.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.normal_(m.bias, std=1e-6)

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + self.dropout(y)
        return x + self.mlp(self.ln_2(x))


class ViTB16(nn.Module):
    def __init__(self, classes: int = 1000, hidden: int = 768, layers: int = 12, heads: int = 12, mlp: int = 3072,
                 torchvision_init: bool = False):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, hidden, 16, 16)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden))
        self.encoder = nn.Module()
        self.encoder.pos_embedding = nn.Parameter(torch.empty(1, 197, hidden).normal_(std=0.02))
        self.encoder.dropout = nn.Dropout(0.0)
        self.encoder.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(heads, hidden, mlp, torchvision_init)) for i in range(layers)))
        self.encoder.ln = nn.LayerNorm(hidden, eps=1e-6)
        self.heads = nn.Sequential()
        self.heads.head = nn.Linear(hidden, classes)
        if torchvision_init:  # torchvision.models.VisionTransformer.__init__
            fan_in = 3 * 16 * 16
            nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            nn.init.zeros_(self.conv_proj.bias)
            nn.init.zeros_(self.heads.head.weight)
            nn.init.zeros_(self.heads.head.bias)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.encoder.ln(self.encoder.layers(self.encoder.dropout(x + self.encoder.pos_embedding)))
        return self.heads(x[:, 0])
