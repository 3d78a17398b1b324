"""Writes the ST-MEM parity fixture tests/Deri.Tests/Fixtures/baselines/st_mem_tiny.safetensors.

A PyTorch implementation of ST-MEM pretraining as the authors' release computes it (bakqui/ST-MEM,
models/st_mem.py and models/encoder/st_mem_vit.py): the same module tree and parameter names, so the
state dict loads by name into Deri's `StMem`. One tiny model runs one masked reconstruction with a
given mask noise (norm_pix_loss on, as in the release's pretraining config), backward, and the
encoder's representation of the unmasked input. Keys: param.* (state dict), in.ecg, in.noise,
out.pred, out.mask, out.loss, out.repr, grad.* (gradients of the loss).

Run with Debian's Python (torch 1.13): /usr/bin/python3 tools/baselines/make_st_mem_fixture.py
"""
import json
import os
import struct

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "Deri.Tests", "Fixtures", "baselines")

LEADS, LENGTH, PATCH = 3, 100, 10
WIDTH, DEPTH, HEADS, HEAD_DIM = 16, 2, 2, 8
DEC_WIDTH, DEC_DEPTH, DEC_HEADS = 8, 1, 2
MASK_RATIO = 0.75


def sincos_table(width, n):
    """Rows 0 and n+1 zero (SEP), row j+1 the sine-cosine embedding of patch j."""
    omega = 1.0 / 10000 ** (torch.arange(width // 2, dtype=torch.float32) / (width / 2.0))
    grid = torch.arange(n, dtype=torch.float32)[:, None] * omega[None, :]
    table = torch.cat([grid.sin(), grid.cos()], dim=1)
    return torch.cat([torch.zeros(1, width), table, torch.zeros(1, width)], dim=0).unsqueeze(0)


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.norm(x))


class Attention(nn.Module):
    def __init__(self, dim, heads, dim_head, qkv_bias):
        super().__init__()
        self.heads, self.dim_head = heads, dim_head
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=qkv_bias)
        self.to_out = nn.Sequential(nn.Linear(heads * dim_head, dim))

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, self.dim_head).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = (q @ k.transpose(-1, -2) * self.dim_head ** -0.5).softmax(dim=-1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    def __init__(self, dim, hidden, heads, dim_head, qkv_bias=True):
        super().__init__()
        self.attn = PreNorm(dim, Attention(dim, heads, dim_head, qkv_bias))
        self.ff = PreNorm(dim, FeedForward(dim, hidden))

    def forward(self, x):
        x = self.attn(x) + x
        return self.ff(x) + x


class Rearrange(nn.Module):
    def forward(self, x):  # b c (n p) -> b c n p
        return x.reshape(x.shape[0], x.shape[1], -1, PATCH)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        n = LENGTH // PATCH
        self.to_patch_embedding = nn.Sequential(Rearrange(), nn.LayerNorm(PATCH), nn.Linear(PATCH, WIDTH), nn.LayerNorm(WIDTH))
        self.pos_embedding = nn.Parameter(sincos_table(WIDTH, n), requires_grad=False)
        self.sep_embedding = nn.Parameter(torch.randn(WIDTH) * 0.02)
        self.lead_embeddings = nn.ParameterList(nn.Parameter(torch.randn(WIDTH) * 0.02) for _ in range(LEADS))
        for i in range(DEPTH):
            self.add_module(f"block{i}", Block(WIDTH, 4 * WIDTH, HEADS, HEAD_DIM))
        self.norm = nn.LayerNorm(WIDTH)

    def with_sep(self, x):
        b = x.shape[0]
        sep = self.sep_embedding[None, None, None, :]
        left = sep.expand(b, LEADS, -1, -1) + self.pos_embedding[:, :1, :].unsqueeze(1)
        right = sep.expand(b, LEADS, -1, -1) + self.pos_embedding[:, -1:, :].unsqueeze(1)
        x = torch.cat([left, x, right], dim=2)
        x = x + torch.stack(list(self.lead_embeddings))[None, :, None, :]
        x = x.reshape(b, -1, WIDTH)
        for i in range(DEPTH):
            x = getattr(self, f"block{i}")(x)
        return x

    def forward_encoding(self, series):
        x = self.to_patch_embedding(series)
        b, _, n, _ = x.shape
        x = x + self.pos_embedding[:, 1:n + 1, :].unsqueeze(1)
        x = self.with_sep(x).reshape(b, LEADS, n + 2, WIDTH)[:, :, 1:-1, :]
        return self.norm(x.mean(dim=(1, 2)))


class StMem(nn.Module):
    def __init__(self):
        super().__init__()
        n = LENGTH // PATCH
        self.encoder = Encoder()
        self.to_decoder_embedding = nn.Linear(WIDTH, DEC_WIDTH)
        self.mask_embedding = nn.Parameter(torch.randn(1, 1, DEC_WIDTH) * 0.02)
        self.decoder_pos_embed = nn.Parameter(sincos_table(DEC_WIDTH, n), requires_grad=False)
        self.decoder_blocks = nn.ModuleList(Block(DEC_WIDTH, 4 * DEC_WIDTH, DEC_HEADS, HEAD_DIM) for _ in range(DEC_DEPTH))
        self.decoder_norm = nn.LayerNorm(DEC_WIDTH, eps=1e-6)
        self.decoder_head = nn.Linear(DEC_WIDTH, PATCH)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                # Non-trivial affine parameters, so the parity test checks that they are applied.
                with torch.no_grad():
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)

    def forward(self, series, noise):
        enc = self.encoder
        x = enc.to_patch_embedding(series)
        b, _, n, d = x.shape
        x = x + enc.pos_embedding[:, 1:n + 1, :].unsqueeze(1)
        keep = int(n * (1 - MASK_RATIO))
        ids_shuffle = torch.argsort(noise, dim=2)
        ids_restore = torch.argsort(ids_shuffle, dim=2)
        x = torch.gather(x, 2, ids_shuffle[:, :, :keep].unsqueeze(-1).repeat(1, 1, 1, d))
        mask = torch.ones(b, LEADS, n)
        mask[:, :, :keep] = 0
        mask = torch.gather(mask, 2, ids_restore)
        latent = enc.norm(enc.with_sep(x))

        x = self.to_decoder_embedding(latent).reshape(b, LEADS, keep + 2, DEC_WIDTH)
        masked = self.mask_embedding.unsqueeze(1).repeat(b, LEADS, n - keep, 1)
        body = torch.cat([x[:, :, 1:-1, :], masked], dim=2)
        body = torch.gather(body, 2, ids_restore.unsqueeze(-1).repeat(1, 1, 1, DEC_WIDTH))
        body = body + self.decoder_pos_embed[:, 1:n + 1, :].unsqueeze(1)
        left = x[:, :, :1, :] + self.decoder_pos_embed[:, :1, :].unsqueeze(1)
        right = x[:, :, -1:, :] + self.decoder_pos_embed[:, -1:, :].unsqueeze(1)
        x = torch.cat([left, body, right], dim=2)
        decoded = []
        for lead in range(LEADS):
            y = x[:, lead]
            for block in self.decoder_blocks:
                y = block(y)
            decoded.append(self.decoder_head(self.decoder_norm(y))[:, 1:-1, :])
        pred = torch.stack(decoded, dim=1)

        target = series.reshape(b, LEADS, n, PATCH)
        target = (target - target.mean(dim=-1, keepdim=True)) / (target.var(dim=-1, keepdim=True) + 1e-6) ** 0.5
        loss = ((pred - target) ** 2).mean(dim=-1)
        loss = (loss * mask).sum() / mask.sum()
        return pred, mask, loss


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.numpy().tobytes()
        header[key] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(0)
    model = StMem()
    ecg = torch.randn(2, LEADS, LENGTH)
    noise = torch.rand(2, LEADS, LENGTH // PATCH)
    pred, mask, loss = model(ecg, noise)
    loss.backward()
    with torch.no_grad():
        rep = model.encoder.forward_encoding(ecg)
    out = {f"param.{k}": v for k, v in model.state_dict().items()}
    out.update({"in.ecg": ecg, "in.noise": noise, "out.pred": pred, "out.mask": mask, "out.loss": loss.reshape(1),
                "out.repr": rep})
    out.update({f"grad.{k}": p.grad for k, p in model.named_parameters() if p.grad is not None})
    os.makedirs(OUT, exist_ok=True)
    save(os.path.join(OUT, "st_mem_tiny.safetensors"), out)
    print("loss", float(loss), "params", sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
