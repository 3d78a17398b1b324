"""Makes tests/Deri.Tests/Fixtures/interop/merl_resnet18_w16.pt and merl_resnet18_w16_expected.pt.

A randomly initialised ECG side with the module layout and state-dict names of MERL's release
(github.com/cheliu-computation/MERL-ICML2024, utils/resnet1d.py and utils/utils_builder.py, read for key names only):
a 1-D ResNet18 whose blocks keep their 1x1 projection under `shortcut`, an unused `linear` classifier, `downconv`
(1x1, stride 1), a CLIP-style `att_pool_head` (cls_token, positional_embedding, mhsa, c_proj), `linear1`/`linear2`
and `proj_t`. Width is reduced so the file stays small: stem width 16 instead of 64 (the release hard-codes 64),
projection 32, text features 32. Saved the way the release saves checkpoints: torch.save({'epoch', 'state_dict'}),
with DataParallel's `module.` prefix.

The inputs are three PTB-XL records preprocessed here as Deri does (physical mV, first 5000 samples at 500 Hz,
global min-max, leads reordered to I, II, III, aVR, aVF, aVL, V1-V6); the C# test checks that Deri's own
preprocessing gives the same input before comparing embeddings. Run with Debian's python3-torch:
    OMP_NUM_THREADS=1 /usr/bin/python3 tools/interop/make_merl_fixture.py
"""
import os
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("DERI_SHARED", os.path.join(ROOT, "..", "..", "shared"))
OUT = os.path.join(ROOT, "tests", "Deri.Tests", "Fixtures", "interop")
RECORDS = ["00001_hr", "00002_hr", "00003_hr"]
MODEL_ORDER = ["I", "II", "III", "AVR", "AVF", "AVL", "V1", "V2", "V3", "V4", "V5", "V6"]
WIDTH, PROJ, HIDDEN, TEXT = 16, 32, 64, 32


def read_record(base):
    """WFDB format-16 record → physical values (leads, samples) in the file's lead order, with lead names."""
    with open(base + ".hea") as f:
        lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
    n_sig, n = int(lines[0][1]), int(lines[0][3])
    digital = np.fromfile(os.path.join(os.path.dirname(base), lines[1][0]), dtype="<i2").reshape(n, n_sig).T.astype(np.float64)
    names, out = [], np.empty_like(digital)
    for i, spec in enumerate(lines[1:1 + n_sig]):
        gain_text = spec[2].split("/")[0]
        gain = float(gain_text.split("(")[0])
        baseline = float(gain_text.split("(")[1].rstrip(")")) if "(" in gain_text else float(spec[4])
        out[i] = (digital[i] - baseline) / gain
        names.append(spec[-1].upper())
    return out, names


def preprocess(base):
    x, names = read_record(base)
    x = x[:, :5000]
    x = (x - x.min()) / (x.max() - x.min() + 1e-8)
    return x[[names.index(l) for l in MODEL_ORDER]].astype(np.float32)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv1d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm1d(cout)
        self.conv2 = nn.Conv1d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm1d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv1d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm1d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.conv1 = nn.Conv1d(12, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm1d(w)
        cin, stages = w, []
        for i in range(4):
            cout = w << i
            stages.append(nn.Sequential(Block(cin, cout, 1 if i == 0 else 2), Block(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(8 * w, 10)  # unused by the forward, as in the release

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return self.layer4(self.layer3(self.layer2(self.layer1(y))))


class ClipPool(nn.Module):
    def __init__(self, n, d, heads):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(1, n + 1, d) / d)
        self.cls_token = nn.Parameter(torch.randn(1, 1, d))
        self.mhsa = nn.MultiheadAttention(d, heads, batch_first=True)
        self.c_proj = nn.Linear(d, d)


class MerlEcgSide(nn.Module):
    def __init__(self):
        super().__init__()
        self.ecg_encoder = ResNet18(WIDTH)
        self.downconv = nn.Conv1d(8 * WIDTH, PROJ, 1)
        self.att_pool_head = ClipPool(313, PROJ, 4)
        self.linear1 = nn.Linear(PROJ, PROJ, bias=False)
        self.linear2 = nn.Linear(PROJ, PROJ, bias=False)
        self.proj_t = nn.Sequential(nn.Linear(TEXT, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, PROJ))


def main():
    torch.manual_seed(0)
    model = MerlEcgSide()
    # Non-trivial batch-norm statistics, as a trained network has.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
    model.eval()
    x = torch.from_numpy(np.stack([preprocess(os.path.join(SHARED, "data", "ptbxl", "records500", "00000", r)) for r in RECORDS]))
    with torch.no_grad():
        fmap = model.ecg_encoder(x)                      # (3, 128, 313)
        encoder = fmap.mean(-1)                           # (3, 128)
        glob = model.downconv(fmap).mean(-1)              # (3, 32): the release's avgpool(downconv(.)) before linear1/2
    os.makedirs(OUT, exist_ok=True)
    state = {"module." + k: v for k, v in model.state_dict().items()}
    torch.save({"epoch": 0, "state_dict": state}, os.path.join(OUT, "merl_resnet18_w16.pt"))
    torch.save({"input": x, "encoder": encoder, "global_feature": glob}, os.path.join(OUT, "merl_resnet18_w16_expected.pt"))
    print("wrote", OUT, "input", tuple(x.shape), "encoder", tuple(encoder.shape), "global", tuple(glob.shape))


if __name__ == "__main__":
    main()
