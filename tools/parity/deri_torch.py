"""PyTorch reference of Deri's ECG-side model (src/Deri/Models) with the same module tree, so that
state-dict keys are identical in both implementations and weights transfer by name.

Shapes: ECG (B, leads, length); F (B, d, n) after the down-projection; tokens (B, n, d).
Only used to generate parity fixtures (make_fixtures.py); needs torch >= 1.13 and nothing else.
"""
import math
from collections import OrderedDict
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- ECG encoders

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv1d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(planes)
        self.conv2 = nn.Conv1d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = nn.Sequential(nn.Conv1d(inp, planes, 1, stride, bias=False), nn.BatchNorm1d(planes))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv1d(inp, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(planes)
        self.conv2 = nn.Conv1d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(planes)
        self.conv3 = nn.Conv1d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm1d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv1d(inp, out, 1, stride, bias=False), nn.BatchNorm1d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet1d(nn.Module):
    def __init__(self, block, layers, leads=12, width=64):
        super().__init__()
        self.conv1 = nn.Conv1d(leads, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm1d(width)
        inp = width
        for i, n in enumerate(layers):
            planes, blocks = width * 2 ** i, []
            for j in range(n):
                blocks.append(block(inp, planes, 2 if (i > 0 and j == 0) else 1))
                inp = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.out_channels = inp

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class VitBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = SelfAttention(width, heads, width // heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict(fc1=nn.Linear(width, 4 * width), act=nn.GELU(), fc2=nn.Linear(4 * width, width)))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer1d(nn.Module):
    def __init__(self, leads, length, patch, width, depth, heads):
        super().__init__()
        self.to_patch_embedding = nn.Conv1d(leads, width, patch, stride=patch)
        self.pos_embedding = nn.Parameter(torch.randn(1, length // patch, width) * 0.02)
        self.blocks = nn.ModuleList([VitBlock(width, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        self.out_channels = width

    def forward(self, x):  # (B, leads, L) -> (B, width, L // patch)
        y = self.to_patch_embedding(x).transpose(1, 2) + self.pos_embedding
        for blk in self.blocks:
            y = blk(y)
        return self.norm(y).transpose(1, 2)


# ---------------------------------------------------------------- pooling and decoders

class AttentionPool(nn.Module):
    """Separator tokens at both ends, a positional table (1, n+2, d), one MHA; returns (B, n, d)."""

    def __init__(self, n, d, heads):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(1, n + 2, d) / d)
        self.sep_token = nn.Parameter(torch.randn(d))
        self.mha = nn.MultiheadAttention(d, heads, batch_first=True)

    def forward(self, x):  # x: (B, n, d)
        pos = self.positional_embedding
        b = x.shape[0]
        sep = self.sep_token[None, None].expand(b, 1, -1)
        x = torch.cat([sep + pos[:, :1], x + pos[:, 1:-1], sep + pos[:, -1:]], 1)
        return self.mha(x, x, x, need_weights=False)[0][:, 1:-1]


class GatedMlp(nn.Module):
    def __init__(self, inp, hidden, out, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(inp, hidden)
        self.fc2 = nn.Linear(hidden, out)
        self.fc3 = nn.Linear(inp, hidden)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.fc2(F.silu(self.drop(self.fc1(x))) * self.drop(self.fc3(x)))


class SelfAttention(nn.Module):
    def __init__(self, d, heads, head_dim):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, heads * head_dim * 3)
        self.proj = nn.Linear(heads * head_dim, d)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), -1) @ v
        return self.proj(a.transpose(1, 2).reshape(b, n, -1))


def drop_path(x, p, training):
    if p == 0.0 or not training:
        return x
    keep = 1 - p
    mask = torch.rand(x.shape[0], *([1] * (x.dim() - 1))) < keep
    return x * mask.to(x.dtype) / keep


class DecoderBlock(nn.Module):
    def __init__(self, d, mlp, heads, head_dim, drop_path):
        super().__init__()
        self.norm1 = nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads, head_dim)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = GatedMlp(d, mlp, d)
        self.drop_path = drop_path

    def forward(self, x):
        x = x + drop_path(self.attn(self.norm1(x)), self.drop_path, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.drop_path, self.training)


class CrossModalDecoder(nn.Module):
    def __init__(self, n, inp, width, out, mlp, depth, heads, head_dim, dropout, drop_path_rate):
        super().__init__()
        self.input_mlp = GatedMlp(inp, mlp, width, dropout)
        self.pos_embedding = nn.Parameter(torch.randn(1, n + 2, width))
        self.sep_token = nn.Parameter(torch.randn(width))
        rates = [drop_path_rate * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]
        self.blocks = nn.ModuleList([DecoderBlock(width, mlp, heads, head_dim, r) for r in rates])
        self.norm = nn.LayerNorm(width)
        self.output_mlp = GatedMlp(width, mlp, out, dropout)

    def forward(self, x):  # (B, n, inp) -> (B, n, out)
        pos = self.pos_embedding
        b = x.shape[0]
        sep = self.sep_token[None, None].expand(b, 1, -1)
        x = torch.cat([sep + pos[:, :1], self.input_mlp(x) + pos[:, 1:-1], sep + pos[:, -1:]], 1)
        for blk in self.blocks:
            x = blk(x)
        return self.output_mlp(self.norm(x[:, 1:-1]))


# ---------------------------------------------------------------- losses

def clip_loss(x, y, temperature=0.07):
    x = F.normalize(x, dim=-1)
    y = F.normalize(y, dim=-1)
    s = x @ y.t() / temperature
    labels = torch.arange(x.shape[0])
    return F.cross_entropy(s, labels) + F.cross_entropy(s.t(), labels)


# ---------------------------------------------------------------- the model

class DeriModel(nn.Module):
    def __init__(self, encoder, tokens, proj=256, hidden=256, text_dim=768, text_len=256, stride=3, pool_heads=4,
                 rme_heads=2, mask_ratio=0.1, dec_depth=2, dec_heads=8, dec_head_dim=64, dec_dropout=0.2, drop_path=0.1):
        super().__init__()
        self.ecg_encoder = encoder
        self.downconv = nn.Conv1d(encoder.out_channels, proj, 1, stride=stride)
        self.att_pool_head = AttentionPool(tokens, proj, pool_heads)
        self.keep = int(math.floor(tokens * (1 - mask_ratio)))
        self.rme_pool1 = AttentionPool(self.keep, proj, rme_heads)
        self.rme_pool2 = AttentionPool(self.keep, proj, rme_heads)
        self.proj_t = nn.Sequential(nn.Linear(text_dim, hidden), nn.GELU(), nn.Linear(hidden, proj))
        self.ecg_decoder = CrossModalDecoder(text_len, proj, proj, proj, hidden, dec_depth, dec_heads, dec_head_dim,
                                             dec_dropout, drop_path)
        self.text_decoder = CrossModalDecoder(tokens + 1, proj, proj, text_dim, hidden, dec_depth, dec_heads,
                                              dec_head_dim, dec_dropout, drop_path)

    def forward(self, ecg, pooled, hidden, perm):
        f = self.downconv(self.ecg_encoder(ecg))          # (B, d, n)
        ft = f.transpose(1, 2)                              # (B, n, d)
        e_tok = self.att_pool_head(ft)                      # (B, n, d)
        d = ft.shape[-1]
        idx1 = perm[:, :self.keep].unsqueeze(-1).expand(-1, -1, d)
        idx2 = perm[:, -self.keep:].unsqueeze(-1).expand(-1, -1, d)
        v1 = self.rme_pool1(torch.gather(ft, 1, idx1)).mean(1)
        v2 = self.rme_pool2(torch.gather(ft, 1, idx2)).mean(1)
        g = f.mean(-1)
        en = F.normalize(e_tok, dim=-1)
        e = en.mean(1)
        t = F.normalize(self.proj_t(pooled), dim=-1)
        d_e = self.ecg_decoder(self.proj_t(hidden)).mean(1)
        sep = self.ecg_decoder.sep_token[None, None].expand(en.shape[0], 1, -1)
        d_t = self.text_decoder(torch.cat([en, sep], 1)).mean(1)
        m_e = e + self.proj_t(d_t)
        m_t = t + d_e
        terms = {
            "cma": clip_loss(e, t), "cma_mix": clip_loss(m_e, m_t), "uma": clip_loss(v1, v2),
            "rec_ecg": clip_loss(g, d_e), "rec_text": clip_loss(pooled, d_t),
        }
        total = terms["cma"] + terms["cma_mix"] + terms["uma"] + terms["rec_ecg"]
        out = {"tokens": e_tok, "aligned_ecg": e, "aligned_text": t, "mixed_ecg": m_e, "mixed_text": m_t,
               "global_ecg": g, "view1": v1, "view2": v2, "decoded_ecg": d_e, "decoded_text": d_t}
        return out, terms, total

    def zero_shot_ecg_embedding(self, ecg):
        f = self.downconv(self.ecg_encoder(ecg))
        e_tok = self.att_pool_head(f.transpose(1, 2))
        sep = self.ecg_decoder.sep_token[None, None].expand(e_tok.shape[0], 1, -1)
        d_t = self.text_decoder(torch.cat([e_tok, sep], 1)).mean(1)
        return F.normalize(e_tok.mean(1) + self.proj_t(d_t), dim=-1)
