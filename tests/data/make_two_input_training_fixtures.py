#!/usr/bin/env python3
"""Fixtures for training models of several inputs (docs/inputs.md, "Training"): one epoch in
PyTorch, float64, batches of 4 over 10 examples in order (the last batch holds 2), and the weights
after it. Two models:
  tokens:  num [5] -> Linear(5, 8), ReLU;  tok [6] int64 -> Embedding(12, 4), mean over the tokens;
           Concat -> Linear(12, C)
  numeric: num [5] -> Linear(5, 8), ReLU;  cat [3] -> Linear(3, 4), Tanh;  Concat -> Linear(12, C)
Runs: tokens with cross-entropy and SGD (lr 0.1) and Adam (lr 0.01); tokens with one logit, BCE and
Adam; numeric with one output, MSE and SGD. Needs only torch:
    /usr/bin/python3 tests/data/make_two_input_training_fixtures.py
Writes tests/data/inputs/train/: {tokens,tokens_one,numeric_one}_start.safetensors, the trained
{run}.safetensors, tokens.npz (num, tok), numeric.npz (num, cat), labels.npy, labels01.npy,
targets.npy."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs", "train")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(11)
nn = torch.nn
N, BATCH, VOCAB, TOKENS = 10, 4, 12, 6


class Numeric(nn.Module):
    def __init__(self, cin, cout, act):
        super().__init__()
        self.fc = nn.Linear(cin, cout)
        self.act = act

    def forward(self, x):
        return self.act(self.fc(x))


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 4)

    def forward(self, ids):
        return self.emb(ids).mean(1)


class TwoInput(nn.Module):
    def __init__(self, second, outputs):
        super().__init__()
        self.num = Numeric(5, 8, nn.ReLU())
        self.second = second
        if second == "tok":
            self.tok = Tokens()
        else:
            self.cat = Numeric(3, 4, nn.Tanh())
        self.head = nn.Linear(12, outputs)

    def forward(self, num, other):
        branch = self.tok if self.second == "tok" else self.cat
        return self.head(torch.cat([self.num(num), branch(other)], dim=1))


def architecture(second, outputs):
    branch = ("tok.emb = Embedding(12, 4)(tok)\ntok.mean = Mean(1)\n" if second == "tok"
              else "cat.fc = Linear(3, 4)(cat)\ncat.act = Tanh()\n")
    last = "tok.mean" if second == "tok" else "cat.act"
    return (f"num.fc = Linear(5, 8)(num)\nnum.act = ReLU()\n{branch}"
            f"join = Concat(dim=1)(num.act, {last})\nhead = Linear(12, {outputs})")


def save(model, name):
    second, outputs = model.second, model.head.out_features
    meta = {"architecture": architecture(second, outputs), "input_names": f"num,{second}",
            "input_shape": f"5;{TOKENS if second == 'tok' else 3}",
            "input_dtype": "float64;int64" if second == "tok" else "float64", "format": "pt"}
    save_safetensors(os.path.join(HERE, name + ".safetensors"), model.state_dict(), meta, torch.float64)


num = torch.randn(N, 5, dtype=torch.float64)
tok = torch.randint(0, VOCAB, (N, TOKENS))
cat = torch.randn(N, 3, dtype=torch.float64)
labels = torch.randint(0, 3, (N,))
labels01 = torch.randint(0, 2, (N,))
targets = torch.randn(N, dtype=torch.float64)
np.savez(os.path.join(HERE, "tokens.npz"), num=num.numpy(), tok=tok.numpy())
np.savez(os.path.join(HERE, "numeric.npz"), num=num.numpy(), cat=cat.numpy())
np.save(os.path.join(HERE, "labels.npy"), labels.numpy())
np.save(os.path.join(HERE, "labels01.npy"), labels01.numpy())
np.save(os.path.join(HERE, "targets.npy"), targets.numpy())

starts = {"tokens": TwoInput("tok", 3).double(), "tokens_one": TwoInput("tok", 1).double(),
          "numeric_one": TwoInput("cat", 1).double()}
for name, model in starts.items():
    save(model, name + "_start")

runs = [  # name, start, optimizer, loss
    ("tokens_sgd", "tokens", lambda p: torch.optim.SGD(p, lr=0.1), "ce"),
    ("tokens_adam", "tokens", lambda p: torch.optim.Adam(p, lr=0.01), "ce"),
    ("tokens_one_bce_adam", "tokens_one", lambda p: torch.optim.Adam(p, lr=0.01), "bce"),
    ("numeric_one_mse_sgd", "numeric_one", lambda p: torch.optim.SGD(p, lr=0.1), "mse"),
]
for name, start, make, loss in runs:
    model = TwoInput(starts[start].second, starts[start].head.out_features).double()
    model.load_state_dict(starts[start].state_dict())
    model.train()
    opt = make(model.parameters())
    other = tok if model.second == "tok" else cat
    for lo in range(0, N, BATCH):  # in order; the last batch holds N % BATCH
        hi = min(N, lo + BATCH)
        out = model(num[lo:hi], other[lo:hi])
        if loss == "ce":
            value = nn.functional.cross_entropy(out, labels[lo:hi])
        elif loss == "bce":
            value = nn.functional.binary_cross_entropy_with_logits(out[:, 0], labels01[lo:hi].double())
        else:
            value = nn.functional.mse_loss(out[:, 0], targets[lo:hi])
        opt.zero_grad()
        value.backward()
        opt.step()
    save(model, name)
print("wrote", HERE, "torch", torch.__version__)

# The starting model as ONNX (inputs num and tok, dynamic batch): `integrad train MODEL.onnx
# --inputs tokens.npz` must end where PyTorch's tokens_sgd does, whatever read the model.
model = starts["tokens"].eval()
torch.onnx.export(model, (num[:2], tok[:2]), os.path.join(HERE, "tokens_start.onnx"), input_names=["num", "tok"], output_names=["logits"],
                  dynamic_axes={"num": {0: "N"}, "tok": {0: "N"}, "logits": {0: "N"}}, opset_version=17)
