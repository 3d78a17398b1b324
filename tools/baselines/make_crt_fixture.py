"""Writes the CRT parity fixture tests/Deri.Tests/Fixtures/baselines/crt_tiny.safetensors.

An independent PyTorch implementation of Deri's CRT (src/Deri/Baselines/Crt.cs; the method as the
release computes it, with the simplifications listed in src/Deri/Baselines/README.ssl3.md), with the
same parameter names. It builds the encoder input token by token and fills the decoder sequence by
position, where the C# code gathers and permutes, so the two check each other's layout. One tiny
model runs one cross reconstruction with given kept patches, its loss terms and their backward, and
the representation. Keys: param.*, in.ecg, in.kept_time, in.kept_spectrum, out.time, out.magnitude,
out.phase, out.loss_{time,magnitude,phase,idc}, out.repr, grad.* (of the default weighted loss).

Run with Debian's Python (torch 1.13): /usr/bin/python3 tools/baselines/make_crt_fixture.py
"""
import os

import torch
from torch import nn
import torch.nn.functional as F

from make_st_mem_fixture import Block, OUT, save

LEADS, LENGTH, PATCH = 2, 80, 10
WIDTH, DEPTH, HEADS, HEAD_DIM = 16, 2, 2, 8
DEC_WIDTH, DEC_DEPTH, DEC_HEADS = 12, 1, 3
N, M = LENGTH // PATCH, LENGTH // 2 // PATCH
S = N + 2 * M + 3
CLS = [0, N + 1, N + M + 2]
FIRST = [1, N + 2, N + M + 3]  # position of the first patch of each domain


class Crt(nn.Module):
    def __init__(self):
        super().__init__()
        values = LEADS * PATCH
        self.to_patch = nn.ModuleList(nn.Linear(values, WIDTH) for _ in range(3))
        self.cls_token = nn.Parameter(torch.randn(1, 3, WIDTH) * 0.5)
        self.modal_embedding = nn.Parameter(torch.randn(3, WIDTH) * 0.5)
        self.pos_embedding = nn.Parameter(torch.randn(1, S, WIDTH) * 0.5)
        self.transformer = nn.ModuleList(Block(WIDTH, WIDTH, HEADS, HEAD_DIM, qkv_bias=False) for _ in range(DEPTH))
        self.projs = nn.ModuleList(nn.Linear(WIDTH, WIDTH) for _ in range(2))
        self.enc_to_dec = nn.Linear(WIDTH, DEC_WIDTH)
        self.mask_token = nn.Parameter(torch.randn(3, DEC_WIDTH) * 0.5)
        self.decoder_pos_emb = nn.Parameter(torch.randn(1, S, DEC_WIDTH) * 0.5)
        self.decoder = nn.ModuleList(Block(DEC_WIDTH, DEC_WIDTH, DEC_HEADS, HEAD_DIM, qkv_bias=False) for _ in range(DEC_DEPTH))
        self.to_pixels = nn.ModuleList(nn.Linear(DEC_WIDTH, values) for _ in range(3))
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)

    @staticmethod
    def domains(ecg):
        spec = torch.fft.rfft(ecg, norm="ortho")[..., :LENGTH // 2]
        mag = torch.sqrt(spec.real ** 2 + spec.imag ** 2)
        phase = torch.atan2(spec.imag, spec.real)

        def patches(x):  # b c (n p) -> b n (c p)
            b, c, l = x.shape
            return x.reshape(b, c, l // PATCH, PATCH).permute(0, 2, 1, 3).reshape(b, l // PATCH, c * PATCH)
        return [patches(ecg), patches(mag), patches(phase)]

    def token(self, b, domain, index, embedded):
        """Encoder input token of a domain's CLS (index None) or patch, (B, W)."""
        if index is None:
            return self.cls_token[0, domain].expand(b, -1) + self.modal_embedding[domain] + self.pos_embedding[0, CLS[domain]]
        return embedded[domain][:, index] + self.modal_embedding[domain] + self.pos_embedding[0, FIRST[domain] + index]

    def forward(self, ecg, kept_time, kept_spectrum):
        b = ecg.shape[0]
        targets = self.domains(ecg)
        embedded = [self.to_patch[d](targets[d]) for d in range(3)]
        kept = [kept_time, kept_spectrum, kept_spectrum]
        tokens, positions, patch_rows, originals = [], [], [], []
        for d in range(3):
            tokens.append(self.token(b, d, None, embedded))
            positions.append(CLS[d])
            for j in kept[d]:
                patch_rows.append(len(tokens))
                originals.append(embedded[d][:, j])
                tokens.append(self.token(b, d, j, embedded))
                positions.append(FIRST[d] + j)
        x = torch.stack(tokens, dim=1)
        for block in self.transformer:
            x = block(x)

        a = F.normalize(self.projs[0](torch.stack(originals, dim=1)), dim=-1)
        e = F.normalize(self.projs[1](x[:, patch_rows]), dim=-1)
        sim = torch.exp(a @ e.transpose(1, 2)) * (1 - torch.eye(len(patch_rows)))
        idc = torch.log(sim.sum(-1).sum(-1)).mean()

        dec = self.enc_to_dec(x)
        rows = []
        for s in range(S):
            if s in positions:
                rows.append(dec[:, positions.index(s)])
            else:
                domain = 0 if s <= N else (1 if s <= N + M + 1 else 2)
                rows.append(self.mask_token[domain].expand(b, -1))
        y = torch.stack(rows, dim=1) + self.decoder_pos_emb
        for block in self.decoder:
            y = block(y)
        preds = [self.to_pixels[0](y[:, 1:N + 1]), self.to_pixels[1](y[:, N + 2:N + M + 2]), self.to_pixels[2](y[:, N + M + 3:])]
        losses = [F.mse_loss(p, t) for p, t in zip(preds, targets)]
        return preds, losses, idc

    def represent(self, ecg):
        b = ecg.shape[0]
        embedded = [self.to_patch[d](t) for d, t in enumerate(self.domains(ecg))]
        tokens = []
        for d in range(3):
            tokens.append(self.token(b, d, None, embedded))
            tokens += [self.token(b, d, j, embedded) for j in range(N if d == 0 else M)]
        x = torch.stack(tokens, dim=1)
        for block in self.transformer:
            x = block(x)
        return x[:, CLS].mean(dim=1)


def main():
    torch.manual_seed(1)
    model = Crt()
    ecg = torch.randn(3, LEADS, LENGTH)
    kept_time, kept_spectrum = [1, 4, 5, 7], [0, 3]
    preds, (lt, lm, lp), idc = model(ecg, kept_time, kept_spectrum)
    (0.5 * lt + 0.25 * lm + 0.25 * lp + 1e-4 * idc).backward()
    with torch.no_grad():
        rep = model.represent(ecg)
    out = {f"param.{k}": v for k, v in model.state_dict().items()}
    out.update({"in.ecg": ecg, "in.kept_time": torch.tensor(kept_time), "in.kept_spectrum": torch.tensor(kept_spectrum),
                "out.time": preds[0], "out.magnitude": preds[1], "out.phase": preds[2],
                "out.loss_time": lt.reshape(1), "out.loss_magnitude": lm.reshape(1), "out.loss_phase": lp.reshape(1),
                "out.loss_idc": idc.reshape(1), "out.repr": rep})
    out.update({f"grad.{k}": p.grad for k, p in model.named_parameters() if p.grad is not None})
    os.makedirs(OUT, exist_ok=True)
    save(os.path.join(OUT, "crt_tiny.safetensors"), out)
    print("losses", float(lt), float(lm), float(lp), float(idc), "params", sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
