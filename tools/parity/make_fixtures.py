"""Writes the parity fixtures that tests/Deri.Tests/Models and Losses compare against.

Run with Debian's Python (torch 1.13):  /usr/bin/python3 tools/parity/make_fixtures.py
Each fixture is one safetensors file (written here by hand: 8-byte little-endian header length,
JSON header, raw little-endian data) under tests/Deri.Tests/Fixtures/parity/:
  param.<state-dict key>  weights and buffers, loaded into the C# module by name
  in.<name>               inputs
  out.<name>              outputs of the forward pass (train mode: batch-norm uses batch statistics)
  grad.<key>              gradients of selected parameters after backward of out.loss (where present)
Sizes are tiny on purpose (all fixtures together stay well under 2 MB).
"""
import json
import os
import struct

import torch

import deri_torch as D

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "Deri.Tests", "Fixtures", "parity")


def save(name, tensors):
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            dtype = "F32"
        elif t.dtype == torch.int64:
            dtype = "I64"
        else:
            raise ValueError(f"{key}: unsupported dtype {t.dtype}")
        raw = t.numpy().tobytes()
        header[key] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def randomize_norms(module):
    """Batch/LayerNorm weights at 1/0 would hide a wrong affine transform: make them random."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def params(module):
    # Copies: state_dict() returns the live buffers, which a train-mode forward updates in place.
    return {"param." + k: v.clone() for k, v in module.state_dict().items()}


def grads(module, keys):
    named = dict(module.named_parameters())
    return {"grad." + k: named[k].grad for k in keys}


def module_fixture(name, module, x, grad_keys):
    randomize_norms(module)
    p = params(module)  # before the forward: batch-norm running statistics change in train mode
    module.train()
    x = x.clone().requires_grad_(False)
    y = module(x)
    loss = (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum()
    loss.backward()
    save(name, {**p, "in.x": x, "out.y": y, "out.loss": loss, **grads(module, grad_keys)})


def main():
    torch.manual_seed(0)
    module_fixture("basic_block", D.BasicBlock(4, 8, 2), torch.randn(2, 4, 20), ["conv1.weight", "downsample.0.weight"])
    module_fixture("bottleneck", D.Bottleneck(8, 4, 2), torch.randn(2, 8, 20), ["conv2.weight", "bn3.weight"])
    module_fixture("resnet18", D.ResNet1d(D.BasicBlock, [2, 2, 2, 2], leads=3, width=4), torch.randn(2, 3, 64),
                   ["conv1.weight", "layer4.1.conv2.weight"])
    module_fixture("vit", D.VisionTransformer1d(3, 60, 10, 16, 2, 2), torch.randn(2, 3, 60),
                   ["to_patch_embedding.weight", "pos_embedding", "blocks.1.attn.qkv.weight", "blocks.0.mlp.fc2.bias"])
    module_fixture("attention_pool", D.AttentionPool(5, 16, 4), torch.randn(2, 5, 16),
                   ["mha.in_proj_weight", "positional_embedding", "sep_token"])
    module_fixture("decoder_block", D.DecoderBlock(16, 24, 2, 8, 0.0), torch.randn(2, 7, 16),
                   ["attn.qkv.weight", "mlp.fc3.weight"])
    module_fixture("decoder", D.CrossModalDecoder(6, 16, 16, 12, 24, 2, 2, 8, 0.0, 0.0), torch.randn(2, 6, 16),
                   ["input_mlp.fc1.weight", "pos_embedding", "output_mlp.fc2.bias"])

    x, y = torch.randn(5, 12, requires_grad=True), torch.randn(5, 12)
    loss = D.clip_loss(x, y)
    loss.backward()
    save("clip_loss", {"in.x": x, "in.y": y, "out.loss": loss, "grad.x": x.grad})

    # One full DERI forward + loss on a tiny configuration (dropout and drop-path off, permutation given).
    b, leads, length, text_dim, text_len = 4, 3, 200, 20, 6
    enc = D.ResNet1d(D.BasicBlock, [2, 2, 2, 2], leads=leads, width=8)
    with torch.no_grad():
        tokens = (enc(torch.zeros(2, leads, length)).shape[-1] - 1) // 3 + 1
    model = D.DeriModel(enc, tokens, proj=16, hidden=24, text_dim=text_dim, text_len=text_len, stride=3, pool_heads=4,
                        rme_heads=2, mask_ratio=0.1, dec_depth=2, dec_heads=2, dec_head_dim=8, dec_dropout=0.0,
                        drop_path=0.0)
    randomize_norms(model)
    p = params(model)
    ecg, pooled, hidden = torch.randn(b, leads, length), torch.randn(b, text_dim), torch.randn(b, text_len, text_dim)
    perm = torch.stack([torch.randperm(tokens) for _ in range(b)])
    model.eval()
    with torch.no_grad():
        zs = model.zero_shot_ecg_embedding(ecg)
    model.train()
    out, terms, total = model(ecg, pooled, hidden, perm)
    total.backward()
    keys = ["ecg_encoder.conv1.weight", "downconv.weight", "att_pool_head.mha.in_proj_weight", "rme_pool1.sep_token",
            "proj_t.0.weight", "ecg_decoder.sep_token", "text_decoder.blocks.1.attn.qkv.weight"]
    save("deri_tiny", {**p, "in.ecg": ecg, "in.pooled": pooled, "in.hidden": hidden, "in.perm": perm,
                       **{"out." + k: v for k, v in out.items()}, **{"out.loss." + k: v for k, v in terms.items()},
                       "out.loss.total": total, "out.zero_shot": zs, **grads(model, keys)})


if __name__ == "__main__":
    main()
