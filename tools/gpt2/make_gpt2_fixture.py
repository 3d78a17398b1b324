"""Reference GPT-2 (with cross-attention) fixtures for Deri's decoder tests.

Run with Debian's python (torch 1.13, no `transformers`):
    /usr/bin/python3 tools/gpt2/make_gpt2_fixture.py tests/Deri.Tests/Fixtures/gpt2

A plain-torch re-implementation of transformers' GPT2LMHeadModel (eval mode) with
add_cross_attention=True, under the Hugging Face parameter names and Conv1D layout
(weight (in, out), y = x W + b). Writes, into the output folder:
  gpt2_tiny_config.json      config.json (n_embd 32, 2 layers, 2 heads, vocab 60, 32 positions)
  gpt2_tiny.safetensors      random weights (float32); `lm_head.weight` is written too (tied to wte,
                             as GPT2LMHeadModel's state_dict lists it)
  gpt2_tiny_io.safetensors   input_ids (3, 9) int64 with right padding, attention_mask (3, 9),
                             memory (3, 1, 32), expected `logits` (3, 9, 60) and scalar `loss`
                             (teacher-forced cross-entropy ignoring padded targets)
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(
    n_embd=32, n_layer=2, n_head=2, n_positions=32, vocab_size=60, layer_norm_epsilon=1e-5,
    add_cross_attention=True, activation_function="gelu_new", n_inner=None,
    embd_pdrop=0.1, attn_pdrop=0.1, resid_pdrop=0.1, model_type="gpt2",
    architectures=["GPT2LMHeadModel"],
)

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(path, tensors):
    """The safetensors layout: u64 LE header length, JSON header, raw little-endian data."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for c in chunks:
            f.write(c)


class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.3)
        self.bias = nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, c, cross):
        super().__init__()
        e = c["n_embd"]
        self.heads, self.hd, self.cross = c["n_head"], e // c["n_head"], cross
        if cross:
            self.q_attn = Conv1D(e, e)
            self.c_attn = Conv1D(2 * e, e)
        else:
            self.c_attn = Conv1D(3 * e, e)
        self.c_proj = Conv1D(e, e)

    def forward(self, x, memory, allowed):
        b, t, e = x.shape
        if self.cross:
            q = self.q_attn(x)
            k, v = self.c_attn(memory).split(e, dim=2)
        else:
            q, k, v = self.c_attn(x).split(e, dim=2)
        split = lambda y: y.view(b, y.shape[1], self.heads, self.hd).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        w = q @ k.transpose(-1, -2) / math.sqrt(self.hd)
        w = w.masked_fill(~allowed, torch.finfo(w.dtype).min)
        ctx = (w.softmax(-1) @ v).transpose(1, 2).reshape(b, t, e)
        return self.c_proj(ctx)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(4 * c["n_embd"], c["n_embd"])
        self.c_proj = Conv1D(c["n_embd"], 4 * c["n_embd"])

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        e, eps = c["n_embd"], c["layer_norm_epsilon"]
        self.ln_1 = nn.LayerNorm(e, eps=eps)
        self.attn = Attention(c, False)
        self.ln_cross_attn = nn.LayerNorm(e, eps=eps)
        self.crossattention = Attention(c, True)
        self.ln_2 = nn.LayerNorm(e, eps=eps)
        self.mlp = Mlp(c)

    def forward(self, x, allowed, memory, mem_allowed):
        h = x + self.attn(self.ln_1(x), None, allowed)
        h = h + self.crossattention(self.ln_cross_attn(h), memory, mem_allowed)
        return h + self.mlp(self.ln_2(h))


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])


class LMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = Transformer(c)

    def forward(self, ids, mask, memory):
        tr = self.transformer
        b, t = ids.shape
        x = tr.wte(ids) + tr.wpe(torch.arange(t))
        causal = torch.ones(t, t, dtype=torch.bool).tril().view(1, 1, t, t)
        allowed = causal & mask.bool().view(b, 1, 1, t)
        mem_allowed = torch.ones(b, 1, 1, memory.shape[1], dtype=torch.bool)
        for blk in tr.h:
            x = blk(x, allowed, memory, mem_allowed)
        return tr.ln_f(x) @ tr.wte.weight.t()


def lm_loss(logits, ids, mask):
    v = logits.shape[-1]
    targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return F.cross_entropy(logits[:, :-1].reshape(-1, v), targets.reshape(-1), ignore_index=-100)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    model = LMHead(CONFIG).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn_like(p))
            elif name.endswith("wte.weight") or name.endswith("wpe.weight"):
                p.copy_(torch.randn_like(p) * 0.5)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    weights["lm_head.weight"] = weights["transformer.wte.weight"].clone()
    save_safetensors(os.path.join(out, "gpt2_tiny.safetensors"), weights)
    with open(os.path.join(out, "gpt2_tiny_config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)

    ids = torch.randint(0, CONFIG["vocab_size"], (3, 9))
    mask = torch.ones(3, 9, dtype=torch.int64)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 59  # the padding id: its value must not matter
    memory = torch.randn(3, 1, CONFIG["n_embd"])
    with torch.no_grad():
        logits = model(ids, mask, memory)
        loss = lm_loss(logits, ids, mask)
    save_safetensors(os.path.join(out, "gpt2_tiny_io.safetensors"), {
        "input_ids": ids, "attention_mask": mask, "memory": memory,
        "logits": logits, "loss": loss.reshape(1),
    })
    print("loss", loss.item(), "logits std", logits.std().item())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/Deri.Tests/Fixtures/gpt2")
