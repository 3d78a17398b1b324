"""Reference BERT fixtures for Deri's text encoder tests.

Run with Debian's python (torch 1.13, no `transformers`):
    /usr/bin/python3 tools/text/make_bert_fixture.py tests/Deri.Tests/Fixtures/text

Writes, into the output folder:
  bert_tiny.safetensors      random weights of a tiny BERT (hidden 32, 2 layers, 2 heads, vocab 50)
                             under the Hugging Face BertModel parameter names
  bert_tiny_config.json      its config.json
  bert_tiny_io.safetensors   inputs (input_ids, attention_mask, token_type_ids, with padding) and the
                             expected outputs `pooled` (B, 32) and `hidden` (B, L, 32) of this plain-torch
                             re-implementation of transformers' BertModel (eval mode), in float32 and,
                             from the same weights widened, float64 (`pooled_f64`, `hidden_f64`)
  dtypes.safetensors         one small tensor per dtype (F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL) plus
                             __metadata__, written by this script's own safetensors writer, to check
                             the C# reader against an independent writer
  hf_tiny/                   a Hugging Face style folder: config.json, model.safetensors (with the legacy
                             `embeddings.position_ids` buffer), vocab.txt (the same 50 tokens) and
                             tokenizer_config.json
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
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    max_position_embeddings=16, vocab_size=50, type_vocab_size=2, layer_norm_eps=1e-12,
    hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, pad_token_id=0,
    hidden_act="gelu", position_embedding_type="absolute", model_type="bert",
    architectures=["BertModel"],
)

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def tensor_bytes(t):
    t = t.contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors(path, tensors, metadata=None):
    """The safetensors layout: u64 LE header length, JSON header, raw little-endian data."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t)
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


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.head_dim = h // self.heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, mask):
        b, l, _ = x.shape
        split = lambda t: t.view(b, l, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        return (probs @ v).transpose(1, 2).contiguous().view(b, l, -1)


class SelfOutput(nn.Module):
    def __init__(self, c, n_in):
        super().__init__()
        self.dense = nn.Linear(n_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = SelfOutput(c, c["hidden_size"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact erf GELU, as transformers' "gelu"


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = SelfOutput(c, c["intermediate_size"])

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, mask):
        for l in self.layer:
            x = l(x, mask)
        return x


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h, padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(types)
        return self.dropout(self.LayerNorm(x))


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings, self.encoder, self.pooler = Embeddings(c), Encoder(c), Pooler(c)

    def forward(self, ids, mask, types):
        x = self.embeddings(ids, types)
        ext = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        hidden = self.encoder(x, ext)
        return self.pooler(hidden), hidden


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
         "sinus", "rhythm", "normal", "ecg", "atrial", "fibrillation", "left", "axis", "deviation",
         "block", "bundle", "branch", "right", "st", "elevation", "t", "wave", "abnormal", "with",
         "rate", "ventricular", "."] + [c for c in "abcdefghijklmno"] + ["##" + c for c in "abcdefgh"]


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(20251125)
    c = CONFIG
    model = Bert(c).eval()
    with torch.no_grad():
        # Non-trivial LayerNorm parameters, so a swapped weight/bias would show.
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * (0.5 if "LayerNorm" not in name else 0.1)
                    + (1.0 if name.endswith("LayerNorm.weight") else 0.0))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    save_safetensors(os.path.join(out, "bert_tiny.safetensors"), state, {"format": "pt"})
    with open(os.path.join(out, "bert_tiny_config.json"), "w") as f:
        json.dump(c, f, indent=2)

    # Three rows of length 10: full, padded after 6 tokens, padded after 3; row 1 has token types 1.
    ids = torch.tensor([
        [2, 5, 6, 7, 8, 9, 10, 11, 12, 3],
        [2, 13, 14, 15, 16, 3, 0, 0, 0, 0],
        [2, 49, 3, 0, 0, 0, 0, 0, 0, 0],
    ], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    mask[:, 0] = 1
    types = torch.zeros_like(ids)
    types[1, 3:6] = 1
    with torch.no_grad():
        pooled, hidden = model(ids, mask, types)
        # The same float32 weights widened to float64: a reference free of float32 rounding.
        pooled64, hidden64 = model.double()(ids, mask, types)
    save_safetensors(os.path.join(out, "bert_tiny_io.safetensors"), {
        "input_ids": ids, "attention_mask": mask, "token_type_ids": types,
        "pooled": pooled.contiguous(), "hidden": hidden.contiguous(),
        "pooled_f64": pooled64.contiguous(), "hidden_f64": hidden64.contiguous()})

    g = torch.Generator().manual_seed(7)
    samples = {
        "f32": torch.randn(2, 3, generator=g),
        "f16": torch.randn(4, generator=g).to(torch.float16),
        "bf16": torch.randn(2, 2, generator=g).to(torch.bfloat16),
        "f64": torch.randn(3, generator=g).to(torch.float64),
        "i64": torch.tensor([[-(2 ** 40), 0, 7]], dtype=torch.int64),
        "i32": torch.tensor([-5, 2 ** 30], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-7, 7], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }
    save_safetensors(os.path.join(out, "dtypes.safetensors"), samples, {"made_by": "make_bert_fixture.py"})
    # Expected values as JSON (floats as float64 of the stored value; bf16/f16 widened exactly).
    with open(os.path.join(out, "dtypes_expected.json"), "w") as f:
        json.dump({k: {"shape": list(v.shape), "values": v.to(torch.float64).flatten().tolist()
                       if v.dtype != torch.int64 else v.flatten().tolist()} for k, v in samples.items()}, f, indent=1)

    hf = os.path.join(out, "hf_tiny")
    os.makedirs(hf, exist_ok=True)
    hf_state = dict(state)
    hf_state["embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    save_safetensors(os.path.join(hf, "model.safetensors"), hf_state, {"format": "pt"})
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    with open(os.path.join(hf, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(hf, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 16}, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/Deri.Tests/Fixtures/text")
