"""torch.optim's step (SGD, Adam, AdamW) or the seed's LARS on the CPU over a benchmark tree's float32 shapes.

Usage: python3 torch_optim_step.py shapes.json OPTIMIZER THREADS [STEPS] [SEED_DIR]
OPTIMIZER is sgd (momentum 0.9, weight decay 5e-4), adam (lr 1e-3), adamw (lr 1e-3, weight decay 0.01) or lars
(the seed's, lr 0.1, momentum 0.9, weight decay 5e-4; SEED_DIR holds holocron_lars.py). Fresh gradients are
cloned in before every step, untimed, as a training loop's backward pass would give them.
Prints one JSON line: torch's version, its thread count, the median and minimum step time in ms.
"""
import json, os, statistics, sys, time
import torch

spec = json.load(open(sys.argv[1]))
name = sys.argv[2]
torch.set_num_threads(int(sys.argv[3]))
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 10
torch.manual_seed(0)
params = [torch.nn.Parameter(torch.randn(s["shape"])) for s in spec["shapes"]]
grads = [torch.randn(p.shape) for p in params]
if name == "sgd":
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
elif name == "adam":
    opt = torch.optim.Adam(params, lr=1e-3)
elif name == "adamw":
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
else:
    sys.path.insert(0, sys.argv[5])
    from holocron_lars import LARS  # noqa: E402
    opt = LARS(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
times = []
for t in range(steps + 2):
    for p, g in zip(params, grads):
        p.grad = g.clone()
    t0 = time.perf_counter()
    opt.step()
    dt = time.perf_counter() - t0
    if t >= 2:
        times.append(dt)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                  "step_ms_median": 1e3 * statistics.median(times), "step_ms_min": 1e3 * min(times)}))
