"""The PyTorch twins of integrad's named architectures, shared by the fixture scripts."""
import torch
from torchvision.models.resnet import BasicBlock

nn = torch.nn


class ResNet(nn.Module):
    """`--arch resnet`: a 3x3 stem (16 channels), torchvision BasicBlocks of 16 and 32 channels (the
    second at stride 2 with a 1x1 downsample), global average pooling, Linear. ReLUs are not in
    place: Zennit's hooks need that, and the values are the same."""

    def __init__(self, in_ch=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        down = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, stride=2, downsample=down))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)
        for m in self.modules():
            if isinstance(m, nn.ReLU):
                m.inplace = False

    def forward(self, x):
        x = self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Branch(nn.Module):
    """One input's branch of the two-input models (make_two_input*_fixtures.py): Linear, then an
    activation; its parameters are `<branch>.fc.weight` and `.bias`."""

    def __init__(self, cin, cout, act):
        super().__init__()
        self.fc = nn.Linear(cin, cout)
        self.act = act

    def forward(self, x):
        return self.act(self.fc(x))
