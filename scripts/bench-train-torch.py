# SPDX-License-Identifier: MIT
"""PyTorch reference for `npm run bench:train`: the same IGN training step as the ONNX step graph.

A persistent child of scripts/bench-train.ts. One JSON object per line on stdin, one JSON reply
per line on stdout (so the two frameworks never run at the same time):
  {"cmd": "info"}                                  -> torch version, threads, BLAS in use
  {"cmd": "setup", "batch": B, "imageShape": [C,H,W], "layers": [...], "loss": {...},
   "optim": {...}, "seed": S, "tensors": {"path": P, "entries": [{"name", "shape", "offset"}]}}
                                                   -> builds f (layer table of training/ign/model.ts);
                                                      with "tensors", its parameters, BN statistics
                                                      and the batch x, z are read from the raw
                                                      float32 file P (the ONNX side's initial state)
  {"cmd": "run", "steps": K}                       -> {"seconds": [t1..tK], "losses": [{total, rec,
                                                      idem, tight} per step]}
  {"cmd": "rss"}                                   -> {"peakMiB": VmHWM since setup}
  {"cmd": "quit"}

One step (docs/ign.md, "Objective"; `paper` preset): f_copy = deepcopy(f) (copy cost included, frozen,
train-mode BN); fx = f(x); fz = f(z); f_z = fz.detach(); ff_z = f(f_z); f_fz = f_copy(fz);
per-sample L1 means; L_tight clamped tanh(L/(a*N))*a*N with N = D(f_z, z) detached;
total = l_r*rec + l_i*idem + l_t*tight; backward; Adam(lr, betas).
"""
import copy
import json
import os
import re
import subprocess
import sys
import time

import torch
from torch import nn

CLAMP_EPS = 1e-12


def blas_info():
    """The BLAS library actually mapped into this process, plus what Debian's alternatives select."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    with open('/proc/self/maps', encoding='utf-8') as maps:
        libs = sorted({line.split()[-1] for line in maps if 'blas' in line.lower() and '/' in line})
    try:
        query = subprocess.run(['update-alternatives', '--query', 'libblas.so.3-x86_64-linux-gnu'],
                               capture_output=True, text=True, check=False).stdout
        value = next((l.split(':', 1)[1].strip() for l in query.splitlines() if l.startswith('Value:')), None)
    except OSError:
        value = None
    settings = re.findall(r'\b((?:BLAS_INFO|LAPACK_INFO|USE_MKL|USE_MKLDNN|USE_OPENMP)=[^,\s]+)', torch.__config__.show())
    return {'mapped': [os.path.realpath(p) for p in libs], 'alternative': value, 'config': settings}


def build_f(layers, channels, norm):
    """The layer table of training/ign/model.ts (applyF): bias only on the last layer (norm='batch')."""
    mods = []
    cin = channels
    last = len(layers) - 1
    for i, l in enumerate(layers):
        normed = l['norm'] and norm != 'none'
        bias = i == last or (l['norm'] and norm == 'none')
        cls = nn.Conv2d if l['kind'] == 'conv' else nn.ConvTranspose2d
        mods.append(cls(cin, l['out'], l['kernel'], l['stride'], l['padding'], bias=bias))
        if normed:
            mods.append(nn.BatchNorm2d(l['out']))
        mods.append({'lrelu': nn.LeakyReLU(0.2), 'relu': nn.ReLU(), 'tanh': nn.Tanh(), 'none': nn.Identity()}[l['act']])
        cin = l['out']
    f = nn.Sequential(*mods)
    for m in f.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return f


def reset_peak_rss():
    """Linux: writing 5 to clear_refs resets VmHWM, so each batch size reports its own peak."""
    try:
        with open('/proc/self/clear_refs', 'w', encoding='ascii') as f:
            f.write('5')
    except OSError:
        pass


def peak_rss_mib():
    with open('/proc/self/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    return None


def onnx_names(layers, norm):
    """Our parameter names (training/ign/model.ts) in the order of f's modules' state_dict entries."""
    names = []
    last = len(layers) - 1
    for i, l in enumerate(layers):
        normed = l['norm'] and norm != 'none'
        bias = i == last or (l['norm'] and norm == 'none')
        names.append((f"{l['name']}.weight", 'conv.weight'))
        if bias:
            names.append((f"{l['name']}.bias", 'conv.bias'))
        if normed:
            for part in ('weight', 'bias', 'running_mean', 'running_var'):
                names.append((f"{l['name']}.norm.{part}", f'bn.{part}'))
    return names


def load_tensors(spec):
    """name -> tensor from the raw float32 file written by the ONNX side."""
    t = spec['tensors']
    with open(t['path'], 'rb') as f:
        raw = f.read()
    out = {}
    for e in t['entries']:
        count = 1
        for d in e['shape']:
            count *= d
        out[e['name']] = torch.frombuffer(bytearray(raw[4 * e['offset']:4 * (e['offset'] + count)]), dtype=torch.float32).reshape(e['shape'])
    return out


def assign_state(f, layers, norm, tensors):
    """Copy our named tensors into f's parameters and BN buffers (same order, checked shapes)."""
    ours = onnx_names(layers, norm)
    theirs = [(k, v) for k, v in f.state_dict().items() if not k.endswith('num_batches_tracked')]
    if len(ours) != len(theirs):
        raise ValueError(f'{len(ours)} ONNX tensors for {len(theirs)} PyTorch entries')
    with torch.no_grad():
        for (name, _), (key, value) in zip(ours, theirs):
            src = tensors[name]
            if tuple(src.shape) != tuple(value.shape):
                raise ValueError(f'{name} {tuple(src.shape)} does not fit {key} {tuple(value.shape)}')
            value.copy_(src)


def distance(a, b, kind):
    d = (a - b).abs() if kind == 'l1' else (a - b) ** 2
    return d.flatten(1).mean(1)


class Bench:
    def __init__(self, spec):
        torch.manual_seed(spec.get('seed', 0))
        c, h, w = spec['imageShape']
        b = spec['batch']
        self.loss = spec['loss']
        self.f = build_f(spec['layers'], c, spec.get('norm', 'batch')).train()
        optim = spec['optim']
        self.opt = torch.optim.Adam(self.f.parameters(), lr=optim['lr'], betas=(optim['beta1'], optim['beta2']),
                                    eps=optim['eps'])
        self.x = torch.rand(b, c, h, w) * 2 - 1
        self.z = torch.randn(b, c, h, w)
        if 'tensors' in spec:
            tensors = load_tensors(spec)
            assign_state(self.f, spec['layers'], spec.get('norm', 'batch'), tensors)
            self.x = tensors['x'].reshape(b, c, h, w).clone()
            self.z = tensors['z'].reshape(b, c, h, w).clone()

    def step(self):
        cfg = self.loss
        f_copy = copy.deepcopy(self.f).requires_grad_(False)
        fx = self.f(self.x)
        fz = self.f(self.z)
        f_z = fz.detach()
        ff_z = self.f(f_z)
        f_fz = f_copy(fz)
        rec = distance(fx, self.x, cfg['distance'])
        idem = distance(f_fz, fz, cfg['distance'])
        tight = -distance(ff_z, f_z, cfg['distance'])
        if cfg['clamp']:
            norm = distance(f_z, self.z, cfg['distance']).detach() * cfg['clampA'] + CLAMP_EPS
            tight = torch.tanh(tight / norm) * norm
        w = cfg['weights']
        total = w['rec'] * rec.mean() + w['idem'] * idem.mean() + w['tight'] * tight.mean()
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        return {'total': float(total), 'rec': float(rec.mean()), 'idem': float(idem.mean()), 'tight': float(tight.mean())}

    def run(self, steps):
        seconds = []
        losses = []
        for _ in range(steps):
            t0 = time.perf_counter()
            losses.append(self.step())
            seconds.append(time.perf_counter() - t0)
        return seconds, losses


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    bench = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg['cmd']
        if cmd == 'info':
            reply = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_info()}
        elif cmd == 'setup':
            bench = None
            reset_peak_rss()
            bench = Bench(msg)
            reply = {'ok': True, 'params': sum(p.numel() for p in bench.f.parameters())}
        elif cmd == 'run' and bench is None:
            reply = {'error': 'run before setup'}
        elif cmd == 'run':
            seconds, losses = bench.run(int(msg['steps']))
            reply = {'seconds': seconds, 'losses': losses}
        elif cmd == 'rss':
            reply = {'peakMiB': peak_rss_mib()}
        elif cmd == 'quit':
            return
        else:
            reply = {'error': f'unknown command {cmd}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
